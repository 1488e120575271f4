//! The organization's users (`/admin/v1/orgs/{orgId}/users`): the list, with keyset cursor
//! pagination, and the search in its POST and GET forms.

use actix_web::{HttpRequest, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::cursor;
use super::error::ApiError;
use super::orgs::{PageLinks, SelfLink};
use super::reply::Reply;
use crate::auth::api_key::Caller;
use crate::domain::member::{Member, UserStatus};
use crate::state::AppState;
use crate::store;
use crate::store::memberships::MemberFilter;

/// The largest page any user list serves.
pub const MAX_PAGE: i64 = 50;

/// Where the request came from, for the audit events it causes.
/// The cursor after `member`: its membership's creation and its user id.
pub fn encode_cursor(member: &Member) -> String {
    cursor::encode(member.joined_at, member.user_id)
}

/// The page size a client asked for, within `1..=max_accepted`, served as at most `MAX_PAGE`.
pub fn page_size(limit: Option<i64>, max_accepted: i64) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(MAX_PAGE);
    if !(1..=max_accepted).contains(&limit) {
        return Err(ApiError::bad_request(
            "ADMIN-400-24",
            "Invalid limit",
            format!("limit must be 1 to {max_accepted}."),
        ));
    }
    Ok(limit.min(MAX_PAGE))
}

/// One page of members from `fetch` (asked for one more than the page, to know whether
/// another page follows) and the cursor of the next page, if any.
pub fn split_page(mut members: Vec<Member>, limit: i64) -> (Vec<Member>, Option<String>) {
    let more = members.len() as i64 > limit;
    members.truncate(limit as usize);
    let next = members.last().filter(|_| more).map(encode_cursor);
    (members, next)
}

/// `account_status` on the wire: keyward's disabled accounts are Atlassian's inactive ones.
pub fn account_status(status: UserStatus) -> &'static str {
    match status {
        UserStatus::Active => "active",
        UserStatus::Disabled => "inactive",
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// Where the previous page ended, from its `links.next`.
    pub cursor: Option<String>,
    /// Page size, 1 to 50 (default 50).
    #[serde(default, deserialize_with = "lenient::int")]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub data: Vec<OrgUser>,
    pub links: PageLinks,
    pub meta: PageMeta,
}

#[derive(Serialize, ToSchema)]
pub struct PageMeta {
    /// Members of the org, all pages together.
    pub total: i64,
}

/// A member as the org users list shows them (snake_case, as the wire has it).
#[derive(Serialize, ToSchema)]
pub struct OrgUser {
    pub account_id: Uuid,
    /// Always "atlassian": every keyward account is a person's.
    pub account_type: &'static str,
    /// active, or inactive for a disabled account.
    pub account_status: &'static str,
    pub name: String,
    /// keyward keeps no pictures.
    pub picture: Option<String>,
    pub email: String,
    /// True while the membership is not suspended and the account is active.
    pub access_billable: bool,
    pub last_active: Option<DateTime<Utc>>,
    pub product_access: Vec<ProductAccess>,
    pub links: SelfLink,
}

/// A product the person uses; keyward has none to report.
#[derive(Serialize, ToSchema)]
pub struct ProductAccess {
    pub key: String,
    pub name: String,
    pub url: Option<String>,
    pub last_active: Option<DateTime<Utc>>,
}

fn org_user(base: &str, member: Member) -> OrgUser {
    OrgUser {
        account_id: member.user_id,
        account_type: "atlassian",
        account_status: account_status(member.status),
        access_billable: member.suspended_at.is_none() && member.status == UserStatus::Active,
        name: member.display_name,
        picture: None,
        email: member.email,
        last_active: member.last_login_at,
        product_access: Vec::new(),
        links: SelfLink {
            self_: format!("{base}/users/{}/manage/profile", member.user_id),
        },
    }
}

/// `GET /admin/v1/orgs/{orgId}/users`: the org's members, oldest membership first.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<UsersQuery>,
) -> Result<Reply<UserPage>, ApiError> {
    let after = cursor::parse(query.cursor.as_deref())?;
    let limit = page_size(query.limit, MAX_PAGE)?;
    let mut conn = state.pool.acquire().await?;
    let (members, total) = store::memberships::list(&mut conn, caller.org_id, after, limit + 1).await?;
    drop(conn);
    let (members, next) = split_page(members, limit);
    let base = format!("{}/admin/v1/orgs/{}/users", state.public_base, caller.org_id);
    let self_ = match (&query.cursor, query.limit) {
        (Some(cursor), _) if !cursor.is_empty() => format!("{base}?cursor={cursor}&limit={limit}"),
        (_, Some(_)) => format!("{base}?limit={limit}"),
        _ => base.clone(),
    };
    Ok(Reply::ok(UserPage {
        data: members.into_iter().map(|m| org_user(&state.public_base, m)).collect(),
        links: PageLinks {
            self_,
            prev: None,
            next: next.map(|cursor| format!("{base}?cursor={cursor}&limit={limit}")),
        },
        meta: PageMeta { total },
    }))
}

/// The users search's filters, from a JSON body or from query parameters alike.
#[derive(Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UserSearch {
    #[serde(default, deserialize_with = "lenient::strings")]
    pub account_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub account_types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub account_statuses: Option<Vec<String>>,
    /// Also accepted as `nameOrNicknames`, as the Python client spells it.
    #[serde(default, alias = "nameOrNicknames", deserialize_with = "lenient::strings")]
    pub names_or_nicknames: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub email_usernames: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub email_domains: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_suspended: Option<bool>,
    pub cursor: Option<String>,
    #[serde(default, deserialize_with = "lenient::int")]
    pub limit: Option<i64>,
    /// Accepted and ignored: every field is always sent.
    #[serde(default, deserialize_with = "lenient::strings")]
    pub expand: Option<Vec<String>>,
}

/// Account ids as keyward has them; an id that is no uuid matches nobody.
pub fn account_ids(ids: Option<Vec<String>>) -> Option<Vec<Uuid>> {
    ids.map(|ids| ids.iter().filter_map(|id| id.parse().ok()).collect())
}

/// Wire account statuses as keyward's: `closed` accounts do not exist here.
pub fn statuses(names: Option<Vec<String>>) -> Result<Option<Vec<UserStatus>>, ApiError> {
    let Some(names) = names else { return Ok(None) };
    let mut statuses = Vec::new();
    for name in names {
        match name.to_ascii_lowercase().as_str() {
            "active" => statuses.push(UserStatus::Active),
            "inactive" => statuses.push(UserStatus::Disabled),
            "closed" => {}
            _ => {
                return Err(ApiError::bad_request(
                    "ADMIN-400-24",
                    "Invalid account status",
                    format!("{name:?} is not an account status: use active, inactive or closed."),
                ));
            }
        }
    }
    Ok(Some(statuses))
}

impl UserSearch {
    fn filter(self) -> Result<MemberFilter, ApiError> {
        let mut filter = MemberFilter {
            user_ids: account_ids(self.account_ids),
            statuses: statuses(self.account_statuses)?,
            names: self.names_or_nicknames,
            email_usernames: self.email_usernames,
            email_domains: self.email_domains,
            suspended: self.is_suspended,
            ..MemberFilter::default()
        };
        if let Some(types) = self.account_types {
            for kind in &types {
                if !["atlassian", "customer", "app"].contains(&kind.to_ascii_lowercase().as_str()) {
                    return Err(ApiError::bad_request(
                        "ADMIN-400-24",
                        "Invalid account type",
                        format!("{kind:?} is not an account type: use atlassian, customer or app."),
                    ));
                }
            }
            // Every keyward account is an Atlassian-type (a person's) account.
            if !types.iter().any(|t| t.eq_ignore_ascii_case("atlassian")) {
                filter.user_ids = Some(Vec::new());
            }
        }
        Ok(filter)
    }
}

/// A member as the search and directory endpoints show them (camelCase, as the wire has it).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryUser {
    pub account_id: Uuid,
    pub account_type: &'static str,
    /// active, or inactive for a disabled account.
    pub account_status: &'static str,
    /// active, or suspended in this org.
    pub membership_status: &'static str,
    /// managed when this org manages the account, else unmanaged.
    pub claim_status: &'static str,
    pub name: String,
    pub nickname: Option<String>,
    pub email: String,
    pub added_to_org: DateTime<Utc>,
    pub last_active: Option<DateTime<Utc>>,
}

pub fn directory_user(org_id: Uuid, member: Member) -> DirectoryUser {
    DirectoryUser {
        account_id: member.user_id,
        account_type: "atlassian",
        account_status: account_status(member.status),
        membership_status: if member.suspended_at.is_some() {
            "suspended"
        } else {
            "active"
        },
        claim_status: if member.managed_by_org == Some(org_id) {
            "managed"
        } else {
            "unmanaged"
        },
        name: member.display_name,
        nickname: member.nickname,
        email: member.email,
        added_to_org: member.joined_at,
        last_active: member.last_login_at,
    }
}

#[derive(Serialize, ToSchema)]
pub struct SearchPage {
    pub data: Vec<DirectoryUser>,
    pub links: CursorLinks,
}

#[derive(Serialize, ToSchema)]
pub struct CursorLinks {
    /// The next page's cursor (bare, to send back as `cursor`); null on the last page.
    pub next: Option<String>,
}

/// Runs a search and pages it.
pub async fn search_page(
    state: &AppState,
    org_id: Uuid,
    filter: &MemberFilter,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<SearchPage, ApiError> {
    let after = cursor::parse(cursor)?;
    // The Python client asks for 10000 by default: accepted, served in pages of MAX_PAGE.
    let limit = page_size(limit, 10_000)?;
    let mut conn = state.pool.acquire().await?;
    let members = store::memberships::search(&mut conn, org_id, filter, after, limit + 1).await?;
    drop(conn);
    let (members, next) = split_page(members, limit);
    Ok(SearchPage {
        data: members.into_iter().map(|m| directory_user(org_id, m)).collect(),
        links: CursorLinks { next },
    })
}

async fn search(state: &AppState, caller: &Caller, search: UserSearch) -> Result<Reply<SearchPage>, ApiError> {
    let cursor = search.cursor.clone();
    let limit = search.limit;
    let filter = search.filter()?;
    Ok(Reply::ok(
        search_page(state, caller.org_id, &filter, cursor.as_deref(), limit).await?,
    ))
}

/// `POST /admin/v1/orgs/{orgId}/users/search`.
pub async fn search_post(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<UserSearch>,
) -> Result<Reply<SearchPage>, ApiError> {
    search(&state, &caller, body.into_inner()).await
}

/// `GET /admin/v1/orgs/{orgId}/users/search`: the same filters as query parameters, arrays
/// repeated or comma-joined.
pub async fn search_get(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<Reply<SearchPage>, ApiError> {
    let query = lenient::query_object(req.query_string());
    let filters: UserSearch = serde_json::from_value(query)
        .map_err(|e| ApiError::bad_request("ADMIN-400-24", "Invalid query", e.to_string()))?;
    search(&state, &caller, filters).await
}

/// Deserializers that accept what the wire's clients send: arrays repeated, comma-joined or
/// as one string; booleans as `true` and `True`; numbers as strings.
pub mod lenient {
    use serde::{Deserialize, Deserializer, de::Error};
    use serde_json::Value;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }

    pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
        let values = match Option::<OneOrMany>::deserialize(d)? {
            None => return Ok(None),
            Some(OneOrMany::One(one)) => vec![one],
            Some(OneOrMany::Many(many)) => many,
        };
        Ok(Some(
            values
                .iter()
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect(),
        ))
    }

    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => Err(D::Error::custom(format!("expected true or false, got {other}"))),
        }
    }

    pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| D::Error::custom("expected an integer")),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| D::Error::custom(format!("expected an integer, got {s:?}"))),
            Some(other) => Err(D::Error::custom(format!("expected an integer, got {other}"))),
        }
    }

    /// A query string as a JSON object: a key given once is a string, a repeated key an array.
    pub fn query_object(query: &str) -> Value {
        let mut object = serde_json::Map::new();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = Value::String(value.into_owned());
            match object.get_mut(key.as_ref()) {
                None => {
                    object.insert(key.into_owned(), value);
                }
                Some(Value::Array(values)) => values.push(value),
                Some(first) => *first = Value::Array(vec![first.take(), value]),
            }
        }
        Value::Object(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_filters_arrive_repeated_comma_joined_or_in_json() {
        let from_query: UserSearch = serde_json::from_value(lenient::query_object(
            "accountStatuses=active&accountStatuses=inactive&emailDomains=a.com,b.com&isSuspended=True&limit=10000",
        ))
        .expect("query");
        assert_eq!(
            from_query.account_statuses,
            Some(vec!["active".into(), "inactive".into()])
        );
        assert_eq!(from_query.email_domains, Some(vec!["a.com".into(), "b.com".into()]));
        assert_eq!(from_query.is_suspended, Some(true));
        assert_eq!(from_query.limit, Some(10_000));

        let from_body: UserSearch =
            serde_json::from_str(r#"{"nameOrNicknames":["ada"],"isSuspended":false,"emailDomains":"a.com","limit":5}"#)
                .expect("body");
        assert_eq!(from_body.names_or_nicknames, Some(vec!["ada".into()]));
        assert_eq!(from_body.is_suspended, Some(false));
        assert_eq!(from_body.email_domains, Some(vec!["a.com".into()]));
        assert_eq!(from_body.limit, Some(5));
    }
}
