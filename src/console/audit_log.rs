//! The org's audit log: every event with its actor, target, time and address, filtered and paged,
//! and downloadable as CSV or JSON Lines.

pub mod export;
pub mod filters;
pub mod forgotten;
pub mod view;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use uuid::Uuid;

use self::export::Format;
use self::filters::{FilterErrors, Filters, LogQuery};
use self::view::EventView;
use crate::console::catalog::audit_log::{self as catalog, Messages};
use crate::console::session::OrgAdmin;
use crate::console::{OrgLayout, PageError, render};
use crate::domain::Action;
use crate::state::AppState;
use crate::store;

/// Events per page.
const PAGE_SIZE: i64 = 50;

/// An option of a select: value, label, whether chosen.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "audit_log/list.html")]
struct LogPage {
    layout: OrgLayout,
    m: &'static Messages,
    filters: Filters,
    errors: FilterErrors,
    actions: Vec<Choice>,
    actors: Vec<Choice>,
    /// What the target filter names, as the page says it.
    target_shown: Option<String>,
    events: Vec<EventView>,
    next: Option<String>,
    first_page: bool,
    dates_hint: String,
    download_note: String,
}

impl LogPage {
    fn download(&self, format: &str) -> String {
        self.filters.with("format", format)
    }

    /// The time of day of an event, to the second, in the viewer's zone (its day is beside it).
    fn clock(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        format!(
            "{} {}",
            at.with_timezone(&self.layout.zone).format("%H:%M:%S"),
            self.layout.zone_name()
        )
    }
}

pub async fn show(
    state: web::Data<AppState>,
    admin: OrgAdmin,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let layout = admin.layout.clone();
    let m = catalog::of(admin.lang);
    let filters = Filters::of(&query);
    let parsed = filters::parse(&filters, layout.zone, m);
    if let (Ok(filter), Some(format)) = (&parsed, Format::parse(&query.format)) {
        return Ok(export::download(
            state.pool.clone(),
            admin.org_id,
            filter.clone(),
            format,
        ));
    }
    let mut conn = state.pool.acquire().await?;
    let people = store::audit::log_people(&mut conn, admin.org_id).await?;
    let after = filters::parse_cursor(&query.after);
    let (status, errors, mut rows) = match &parsed {
        Ok(filter) => {
            let rows = store::audit::log_page(&mut conn, admin.org_id, filter, after, PAGE_SIZE + 1).await?;
            (StatusCode::OK, FilterErrors::default(), rows)
        }
        Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors.clone(), Vec::new()),
    };
    drop(conn);
    let page_size = usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    let more = rows.len() > page_size;
    rows.truncate(page_size);
    let next = match (more, rows.last()) {
        (true, Some(last)) => Some(filters.with("after", &filters::cursor(last.event.time, last.event.id))),
        _ => None,
    };
    let events: Vec<EventView> = rows
        .into_iter()
        .map(|row| EventView::new(row, admin.org_id, m, &layout))
        .collect();
    let target_shown = parsed
        .as_ref()
        .ok()
        .and_then(|f| f.target.as_ref())
        .map(|target| target_name(target, &events));
    let page = LogPage {
        actions: action_choices(&filters, m),
        actors: actor_choices(&filters, people, m),
        target_shown,
        events,
        next,
        first_page: after.is_none(),
        dates_hint: crate::console::catalog::fill(m.dates_hint, &[("zone", layout.zone_name())]),
        download_note: crate::console::catalog::fill(m.download_note, &[("n", &format_count(export::MAX_ROWS))]),
        errors,
        filters,
        layout,
        m,
    };
    render(status, &page)
}

/// What the target filter names, as its events' rows name it (so a person or key is named
/// only when this org's log names them); its kind and id when the page lists none.
fn target_name((kind, id): &(String, String), events: &[EventView]) -> String {
    match events.first().and_then(|event| event.target.as_ref()) {
        Some(target) => match &target.sub {
            Some(sub) => format!("{} ({sub})", target.name),
            None => target.name.clone(),
        },
        None => format!("{kind} {id}"),
    }
}

fn action_choices(filters: &Filters, m: &'static Messages) -> Vec<Choice> {
    let mut choices: Vec<Choice> = Action::ALL
        .iter()
        .map(|&action| Choice {
            value: action.name().to_owned(),
            label: m.action(action).to_owned(),
            selected: filters.action == action.name(),
        })
        .collect();
    choices.sort_by(|a, b| a.label.cmp(&b.label));
    choices
}

fn actor_choices(filters: &Filters, people: Vec<(Uuid, String, String)>, m: &'static Messages) -> Vec<Choice> {
    let mut choices = vec![
        Choice {
            value: filters::ANY_KEY.to_owned(),
            label: m.any_api_key.to_owned(),
            selected: filters.actor == filters::ANY_KEY,
        },
        Choice {
            value: filters::SYSTEM.to_owned(),
            label: m.keyward_itself.to_owned(),
            selected: filters.actor == filters::SYSTEM,
        },
    ];
    choices.extend(people.into_iter().map(|(id, name, email)| Choice {
        selected: filters.actor == id.to_string(),
        value: id.to_string(),
        label: format!("{name} ({email})"),
    }));
    // An actor named by a link (a key's id) that the list lacks is still shown as chosen.
    if !filters.actor.is_empty() && !choices.iter().any(|c| c.selected) && filters.actor.parse::<Uuid>().is_ok() {
        choices.push(Choice {
            value: filters.actor.clone(),
            label: filters.actor.clone(),
            selected: true,
        });
    }
    choices
}

/// 100000 as 100,000.
fn format_count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
