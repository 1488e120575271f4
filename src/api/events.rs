//! Events API (`/admin/v1|v2/orgs/{orgId}/events...`): the org's audit log in the wire format,
//! as a filtered list (newest first), one event, a stream (oldest first by default, for
//! consumers that follow the log) and the catalog of actions. Keyset cursors over (time, id),
//! so events written while a client walks the pages are neither repeated nor skipped.

use std::net::IpAddr;

use actix_web::{HttpRequest, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::cursor;
use super::error::ApiError;
use super::orgs::{PageLinks, SelfLink};
use super::reply::Reply;
use crate::auth::api_key::Caller;
use crate::domain::Action;
use crate::domain::actor::Actor;
use crate::state::AppState;
use crate::store;
use crate::store::audit::{ActorFilter, Event, EventFilter, Order};

/// The largest (and default) page of the list.
pub const LIST_PAGE: i64 = 50;
/// The largest page of the stream; its default is the list's.
pub const STREAM_PAGE: i64 = 500;

/// The actor id of keyward's own work (setup, the command line, the background writer).
pub const SYSTEM_ACTOR: &str = "system";

/// A page of events: `{"data":[event], "links":{...}, "meta":{next, page_size}}`.
#[derive(Serialize, ToSchema)]
pub struct EventPage {
    pub data: Vec<EventItem>,
    pub links: PageLinks,
    pub meta: EventMeta,
}

#[derive(Serialize, ToSchema)]
pub struct EventMeta {
    /// The cursor of the next page (the same one `links.next` carries), null on the last page.
    pub next: Option<String>,
    /// The page size this answer was served with.
    pub page_size: i64,
}

/// `{"data": event}`.
#[derive(Serialize, ToSchema)]
pub struct EventBody {
    pub data: EventItem,
}

#[derive(Serialize, ToSchema)]
pub struct EventItem {
    pub id: Uuid,
    /// Always `events`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attributes: EventAttributes,
    pub links: SelfLink,
}

#[derive(Serialize, ToSchema)]
pub struct EventAttributes {
    pub time: DateTime<Utc>,
    /// The action's id, as `GET .../event-actions` lists it.
    pub action: String,
    pub actor: EventActor,
    /// What the event acted on (one item; none for an event without a target).
    pub context: Vec<EventContext>,
    /// The organization the event belongs to.
    pub container: Vec<EventContainer>,
    pub location: EventLocation,
}

/// Who did it: a person (id, name, email), an API key (its id and name; no email), or keyward
/// itself (id `system`, name `keyward`).
#[derive(Serialize, ToSchema)]
pub struct EventActor {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// keyward: `user`, `api_key` or `system`.
    #[serde(rename = "type")]
    pub kind: ActorType,
    pub links: ActorLinks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorType {
    User,
    ApiKey,
    System,
}

#[derive(Serialize, ToSchema)]
pub struct ActorLinks {
    /// The person's profile; null for a key or keyward itself.
    #[serde(rename = "self")]
    pub self_: Option<String>,
}

/// The event's target.
#[derive(Serialize, ToSchema)]
pub struct EventContext {
    pub id: String,
    /// What kind of thing it is: `user`, `api_key`, `org`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The event's details as recorded (an object; never a secret, which no event holds).
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    pub links: ContextLinks,
}

#[derive(Serialize, ToSchema)]
pub struct ContextLinks {
    /// Where the target can be read in this API, when it can.
    #[serde(rename = "self")]
    pub self_: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EventContainer {
    pub id: Uuid,
    /// Always `organization`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub links: SelfLink,
}

/// Where the request came from.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventLocation {
    /// The client address (null for the command line and keyward's own work).
    pub ip: Option<String>,
    /// keyward: the request's User-Agent, when it sent one.
    pub user_agent: Option<String>,
}

/// `{"data":[action]}`: the catalog of actions events can have.
#[derive(Serialize, ToSchema)]
pub struct EventActionList {
    pub data: Vec<EventActionItem>,
}

#[derive(Serialize, ToSchema)]
pub struct EventActionItem {
    /// The action, as events and the `action` filter name it.
    pub id: &'static str,
    /// Always `event-actions`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attributes: EventActionAttributes,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventActionAttributes {
    pub display_name: &'static str,
    pub group_display_name: &'static str,
}

/// The list's query. Read from the query string by `from_query_string`, not by serde: actions
/// arrive repeated (`action=a&action=b`) and comma-joined (`action=a,b`).
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Where the previous page ended, from its `meta.next` or `links.next`.
    pub cursor: Option<String>,
    /// A case-insensitive substring of the action, the target, the actor's name or email, or
    /// the details.
    pub q: Option<String>,
    /// Events at this time or later (inclusive): epoch milliseconds or RFC 3339.
    pub from: Option<String>,
    /// Events before this time (exclusive): epoch milliseconds or RFC 3339.
    pub to: Option<String>,
    /// Action ids (`GET .../event-actions`), repeated or comma-joined: events of any of them.
    /// An id not in the catalog is a 400.
    #[param(required = false, explode = true)]
    pub action: Vec<String>,
    /// The actor's id: a user's or an API key's id, or `system`.
    pub actor: Option<String>,
    /// A client address, or a network in CIDR form: events from it.
    pub ip: Option<String>,
    /// Page size, 1 to 50 (default and maximum 50; above is a 400).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
}

/// The stream's query.
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct StreamQuery {
    /// Where the previous page ended, from its `meta.next` or `links.next`. Following it from
    /// the last page later picks up what was recorded since (oldest first).
    pub cursor: Option<String>,
    /// Events at this time or later (inclusive): epoch milliseconds or RFC 3339.
    pub from: Option<String>,
    /// Events before this time (exclusive): epoch milliseconds or RFC 3339.
    pub to: Option<String>,
    /// Page size, 1 to 500 (default 50; above 500 is a 400).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// `asc` (the default: oldest first, as a stream is followed) or `desc`.
    #[param(value_type = Option<String>)]
    pub sort_order: Option<String>,
}

fn parameters(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    url::form_urlencoded::parse(query.as_bytes()).map(|(name, value)| (name.into_owned(), value.into_owned()))
}

fn nonempty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl EventsQuery {
    /// Reads the query string; parameters it does not know are ignored.
    pub fn from_query_string(query: &str) -> EventsQuery {
        let mut parsed = EventsQuery::default();
        for (name, value) in parameters(query) {
            match name.as_str() {
                "cursor" => parsed.cursor = Some(value),
                "q" => parsed.q = Some(value),
                "from" => parsed.from = Some(value),
                "to" => parsed.to = Some(value),
                "action" => parsed.action.extend(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                ),
                "actor" => parsed.actor = Some(value),
                "ip" => parsed.ip = Some(value),
                "limit" => parsed.limit = Some(value),
                _ => {}
            }
        }
        parsed
    }

    fn filter(&self) -> Result<EventFilter, ApiError> {
        let mut actions = Vec::new();
        for name in &self.action {
            let action: Action = name.parse().map_err(|_| {
                ApiError::bad_request(
                    "ADMIN-400-24",
                    "Invalid action",
                    format!("action {name:?} is not one of GET .../event-actions."),
                )
            })?;
            if !actions.contains(&action) {
                actions.push(action);
            }
        }
        Ok(EventFilter {
            text: self.q.clone().filter(|q| !q.is_empty()),
            from: time_parameter("from", self.from.as_deref())?,
            to: time_parameter("to", self.to.as_deref())?,
            actions,
            actor: nonempty(&self.actor).map(actor_parameter).transpose()?,
            ip: nonempty(&self.ip).map(ip_parameter).transpose()?,
        })
    }

    /// This query's filters as URL parameters, for the links of a page.
    fn link(&self, base: &str, cursor: Option<&str>, limit: i64) -> String {
        let mut params = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [("q", &self.q), ("from", &self.from), ("to", &self.to)] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                params.append_pair(name, value);
            }
        }
        if !self.action.is_empty() {
            params.append_pair("action", &self.action.join(","));
        }
        for (name, value) in [("actor", &self.actor), ("ip", &self.ip)] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                params.append_pair(name, value);
            }
        }
        if let Some(cursor) = cursor {
            params.append_pair("cursor", cursor);
        }
        params.append_pair("limit", &limit.to_string());
        format!("{base}?{}", params.finish())
    }
}

impl StreamQuery {
    pub fn from_query_string(query: &str) -> StreamQuery {
        let mut parsed = StreamQuery::default();
        for (name, value) in parameters(query) {
            match name.as_str() {
                "cursor" => parsed.cursor = Some(value),
                "from" => parsed.from = Some(value),
                "to" => parsed.to = Some(value),
                "limit" => parsed.limit = Some(value),
                "sortOrder" => parsed.sort_order = Some(value),
                _ => {}
            }
        }
        parsed
    }

    fn filter(&self) -> Result<EventFilter, ApiError> {
        Ok(EventFilter {
            from: time_parameter("from", self.from.as_deref())?,
            to: time_parameter("to", self.to.as_deref())?,
            ..EventFilter::default()
        })
    }

    fn order(&self) -> Result<Order, ApiError> {
        match nonempty(&self.sort_order).map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => Ok(Order::OldestFirst),
            Some("desc") => Ok(Order::NewestFirst),
            Some(_) => Err(ApiError::bad_request(
                "ADMIN-400-24",
                "Invalid sort order",
                "sortOrder must be asc or desc.",
            )),
        }
    }

    fn link(&self, base: &str, cursor: Option<&str>, limit: i64) -> String {
        let mut params = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [("from", &self.from), ("to", &self.to), ("sortOrder", &self.sort_order)] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                params.append_pair(name, value);
            }
        }
        if let Some(cursor) = cursor {
            params.append_pair("cursor", cursor);
        }
        params.append_pair("limit", &limit.to_string());
        format!("{base}?{}", params.finish())
    }
}

/// A time as the events API takes it: epoch milliseconds (`1790000000000`) or RFC 3339
/// (`2026-09-21T14:13:20Z`). None when it is neither.
pub fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return DateTime::<Utc>::from_timestamp_millis(value.parse().ok()?);
    }
    DateTime::parse_from_rfc3339(value).ok().map(|t| t.to_utc())
}

fn time_parameter(name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(value) => parse_time(value).map(Some).ok_or_else(|| {
            ApiError::bad_request(
                "ADMIN-400-3",
                "Invalid time",
                format!("{name} must be epoch milliseconds or an RFC 3339 time, such as 2027-01-31T09:00:00Z."),
            )
        }),
    }
}

fn actor_parameter(value: &str) -> Result<ActorFilter, ApiError> {
    if value.eq_ignore_ascii_case(SYSTEM_ACTOR) {
        return Ok(ActorFilter::System);
    }
    value.parse().map(ActorFilter::Id).map_err(|_| {
        ApiError::bad_request(
            "ADMIN-400-24",
            "Invalid actor",
            "actor must be a user's or an API key's id, or system.",
        )
    })
}

fn ip_parameter(value: &str) -> Result<sqlx::types::ipnet::IpNet, ApiError> {
    value
        .parse::<IpAddr>()
        .map(sqlx::types::ipnet::IpNet::from)
        .or_else(|_| value.parse())
        .map_err(|_| {
            ApiError::bad_request(
                "ADMIN-400-24",
                "Invalid address",
                "ip must be an IPv4 or IPv6 address, or a network in CIDR form.",
            )
        })
}

fn page_size(limit: &Option<String>, max: i64) -> Result<i64, ApiError> {
    let Some(limit) = nonempty(limit) else {
        return Ok(LIST_PAGE);
    };
    match limit.parse::<i64>() {
        Ok(limit) if (1..=max).contains(&limit) => Ok(limit),
        _ => Err(ApiError::bad_request(
            "ADMIN-400-24",
            "Invalid limit",
            format!("limit must be 1 to {max}."),
        )),
    }
}

/// The API version the request came in on, so the links it gets stay on it.
fn version(req: &HttpRequest) -> &'static str {
    if req.path().starts_with("/admin/v2/") {
        "v2"
    } else {
        "v1"
    }
}

/// What the answers' links are made of.
struct Urls<'a> {
    base: &'a str,
    org: String,
}

impl<'a> Urls<'a> {
    fn new(state: &'a AppState, caller: &Caller, req: &HttpRequest) -> Urls<'a> {
        Urls {
            base: &state.public_base,
            org: format!("{}/admin/{}/orgs/{}", state.public_base, version(req), caller.org_id),
        }
    }

    fn event(&self, event: Event) -> EventItem {
        let actor = match event.actor {
            Actor::User(id) => EventActor {
                id: id.to_string(),
                name: event.actor_name,
                email: event.actor_email,
                kind: ActorType::User,
                links: ActorLinks {
                    self_: Some(format!("{}/users/{id}/manage/profile", self.base)),
                },
            },
            Actor::Key(id) => EventActor {
                id: id.to_string(),
                name: event.actor_name,
                email: None,
                kind: ActorType::ApiKey,
                links: ActorLinks { self_: None },
            },
            Actor::System => EventActor {
                id: SYSTEM_ACTOR.to_owned(),
                name: Some("keyward".to_owned()),
                email: None,
                kind: ActorType::System,
                links: ActorLinks { self_: None },
            },
        };
        let attributes = match event.details {
            Value::Object(details) => details,
            Value::Null => Map::new(),
            other => Map::from_iter([("value".to_owned(), other)]),
        };
        let context = match (event.target_kind, event.target_id) {
            (Some(kind), Some(id)) => vec![EventContext {
                links: ContextLinks {
                    self_: self.target(&kind, &id),
                },
                id,
                kind,
                attributes,
            }],
            _ => Vec::new(),
        };
        let org_id = event.org_id.unwrap_or_default();
        EventItem {
            id: event.id,
            kind: "events",
            links: SelfLink {
                self_: format!("{}/events/{}", self.org, event.id),
            },
            attributes: EventAttributes {
                time: event.time,
                action: event.action,
                actor,
                context,
                container: vec![EventContainer {
                    id: org_id,
                    kind: "organization",
                    links: SelfLink {
                        self_: format!("{}/admin/v1/orgs/{org_id}", self.base),
                    },
                }],
                location: EventLocation {
                    ip: event.ip.map(|ip| ip.to_string()),
                    user_agent: event.user_agent,
                },
            },
        }
    }

    /// Where this API serves a target, for the kinds it has a single-object endpoint for.
    fn target(&self, kind: &str, id: &str) -> Option<String> {
        match kind {
            "user" => Some(format!("{}/users/{id}/manage/profile", self.base)),
            "org" => Some(format!("{}/admin/v1/orgs/{id}", self.base)),
            _ => None,
        }
    }
}

/// A page from `search` (asked for one more than the page, to know whether another follows).
fn page(
    urls: &Urls<'_>,
    mut events: Vec<Event>,
    limit: i64,
    link: impl Fn(Option<&str>) -> String,
    this_cursor: Option<&str>,
) -> EventPage {
    let more = events.len() as i64 > limit;
    events.truncate(limit as usize);
    let next = events
        .last()
        .filter(|_| more)
        .map(|last| cursor::encode(last.time, last.id));
    EventPage {
        links: PageLinks {
            self_: link(this_cursor),
            prev: None,
            next: next.as_deref().map(|c| link(Some(c))),
        },
        meta: EventMeta { next, page_size: limit },
        data: events.into_iter().map(|event| urls.event(event)).collect(),
    }
}

/// `GET .../events`: the org's events, newest first, filtered.
pub async fn list(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> Result<Reply<EventPage>, ApiError> {
    let query = EventsQuery::from_query_string(req.query_string());
    let filter = query.filter()?;
    let limit = page_size(&query.limit, LIST_PAGE)?;
    let after = cursor::parse(query.cursor.as_deref())?;
    let mut conn = state.pool.acquire().await?;
    let events = store::audit::search(&mut conn, caller.org_id, &filter, Order::NewestFirst, after, limit + 1).await?;
    drop(conn);
    let urls = Urls::new(&state, &caller, &req);
    let base = format!("{}/events", urls.org);
    let this_cursor = nonempty(&query.cursor);
    Ok(Reply::ok(page(
        &urls,
        events,
        limit,
        |c| query.link(&base, c, limit),
        this_cursor,
    )))
}

/// `GET .../events-stream`: the org's events in time order, oldest first unless asked.
pub async fn stream(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<Reply<EventPage>, ApiError> {
    let query = StreamQuery::from_query_string(req.query_string());
    let filter = query.filter()?;
    let order = query.order()?;
    let limit = page_size(&query.limit, STREAM_PAGE)?;
    let after = cursor::parse(query.cursor.as_deref())?;
    let mut conn = state.pool.acquire().await?;
    let events = store::audit::search(&mut conn, caller.org_id, &filter, order, after, limit + 1).await?;
    drop(conn);
    let urls = Urls::new(&state, &caller, &req);
    let base = format!("{}/events-stream", urls.org);
    let this_cursor = nonempty(&query.cursor);
    Ok(Reply::ok(page(
        &urls,
        events,
        limit,
        |c| query.link(&base, c, limit),
        this_cursor,
    )))
}

/// An unknown event, another org's and an id that is no event id at all answer alike.
pub fn event_not_found() -> ApiError {
    ApiError::not_found(
        "ADMIN-404-4",
        "Event not found",
        "No event with this id is visible to this API key.",
    )
}

/// `GET .../events/{eventId}`.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<Reply<EventBody>, ApiError> {
    let (_, event_id) = path.into_inner();
    let id: Uuid = event_id.parse().map_err(|_| event_not_found())?;
    let mut conn = state.pool.acquire().await?;
    let event = store::audit::get(&mut conn, caller.org_id, id)
        .await?
        .ok_or_else(event_not_found)?;
    drop(conn);
    Ok(Reply::ok(EventBody {
        data: Urls::new(&state, &caller, &req).event(event),
    }))
}

/// `GET .../event-actions`: the catalog every event's action comes from.
pub async fn actions() -> Reply<EventActionList> {
    Reply::ok(EventActionList {
        data: Action::ALL
            .iter()
            .map(|action| EventActionItem {
                id: action.name(),
                kind: "event-actions",
                attributes: EventActionAttributes {
                    display_name: action.display_name(),
                    group_display_name: action.group(),
                },
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_epoch_milliseconds_or_rfc_3339_alike() {
        let rfc = parse_time("2026-09-21T14:13:20.123Z").expect("RFC 3339");
        assert_eq!(parse_time("1790000000123"), Some(rfc));
        assert_eq!(parse_time("2026-09-21T16:13:20.123+02:00"), Some(rfc));
        for bad in [
            "",
            "yesterday",
            "1790000000123x",
            "-5",
            "2026-09-21",
            "99999999999999999999",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn actions_arrive_repeated_and_comma_joined() {
        let query = EventsQuery::from_query_string("action=api_key.created,api_key.revoked&action=user.created");
        assert_eq!(query.action, ["api_key.created", "api_key.revoked", "user.created"]);
        let filter = query.filter().expect("known actions");
        assert_eq!(
            filter.actions,
            [Action::ApiKeyCreated, Action::ApiKeyRevoked, Action::UserCreated]
        );
        assert!(
            EventsQuery::from_query_string("action=api_key.deleted")
                .filter()
                .is_err()
        );
    }

    #[test]
    fn a_stream_runs_oldest_first_unless_asked() {
        assert_eq!(StreamQuery::default().order().ok(), Some(Order::OldestFirst));
        let desc = StreamQuery::from_query_string("sortOrder=DESC");
        assert_eq!(desc.order().ok(), Some(Order::NewestFirst));
        assert!(StreamQuery::from_query_string("sortOrder=sideways").order().is_err());
    }

    #[test]
    fn addresses_and_networks_filter_alike() {
        assert_eq!(ip_parameter("10.0.0.7").ok(), "10.0.0.7/32".parse().ok());
        assert_eq!(ip_parameter("10.0.0.0/8").ok(), "10.0.0.0/8".parse().ok());
        assert!(ip_parameter("10.0.0.300").is_err());
    }
}
