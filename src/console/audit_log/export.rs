//! The audit log's downloads: the filtered events as CSV (RFC 4180, every cell quoted, cells a
//! spreadsheet would read as a formula disarmed) or JSON Lines, streamed in batches so memory
//! stays bounded whatever the log's size. The CSV is written here rather than with the `csv`
//! crate: quoting every cell is a few lines, and the formula neutralising is ours either way.

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::actor::{Actor, ActorKind};
use crate::store;
use crate::store::audit::{Event, LogEvent, LogFilter};

/// The most events one download holds (the page says so).
pub const MAX_ROWS: usize = 100_000;
/// Events read from the database at a time.
const BATCH: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    pub fn parse(input: &str) -> Option<Format> {
        match input {
            "csv" => Some(Format::Csv),
            "jsonl" => Some(Format::Jsonl),
            _ => None,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8; header=present",
            Format::Jsonl => "application/jsonl; charset=utf-8",
        }
    }
}

/// The columns of both formats, in order.
const COLUMNS: [&str; 10] = [
    "time",
    "action",
    "actor_kind",
    "actor_id",
    "actor_name",
    "target_kind",
    "target_id",
    "ip",
    "user_agent",
    "details",
];

/// A cell a spreadsheet would take for a formula (or that could hide one behind a tab or a
/// carriage return) gets a leading apostrophe, as OWASP's CSV injection advice says.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// One CSV cell: neutralised, then quoted, its quotes doubled (RFC 4180).
pub fn csv_cell(out: &mut String, cell: &str) {
    out.push('"');
    out.push_str(&neutralise(cell).replace('"', "\"\""));
    out.push('"');
}

fn csv_row(out: &mut String, cells: &[&str]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_cell(out, cell);
    }
    out.push_str("\r\n");
}

/// The name an export gives the actor: the person's display name, the key's name, or keyward.
fn actor_name(event: &Event) -> Option<&str> {
    match event.actor {
        Actor::System => Some("keyward"),
        _ => event.actor_name.as_deref(),
    }
}

fn actor_kind(event: &Event) -> &'static str {
    match event.actor.kind() {
        ActorKind::User => "user",
        ActorKind::Key => "key",
        ActorKind::System => "system",
    }
}

/// One event's row: the columns' values, as text (details as JSON).
fn cells(event: &Event) -> [String; 10] {
    [
        event.time.to_rfc3339_opts(SecondsFormat::Micros, true),
        event.action.clone(),
        actor_kind(event).to_owned(),
        event.actor.id().map(|id| id.to_string()).unwrap_or_default(),
        actor_name(event).unwrap_or_default().to_owned(),
        event.target_kind.clone().unwrap_or_default(),
        event.target_id.clone().unwrap_or_default(),
        event.ip.map(|ip| ip.to_string()).unwrap_or_default(),
        event.user_agent.clone().unwrap_or_default(),
        event.details.to_string(),
    ]
}

fn json_line(out: &mut String, event: &Event) {
    let line: Value = json!({
        "time": event.time.to_rfc3339_opts(SecondsFormat::Micros, true),
        "action": event.action,
        "actor_kind": actor_kind(event),
        "actor_id": event.actor.id(),
        "actor_name": actor_name(event),
        "target_kind": event.target_kind,
        "target_id": event.target_id,
        "ip": event.ip.map(|ip| ip.to_string()),
        "user_agent": event.user_agent,
        "details": event.details,
    });
    out.push_str(&line.to_string());
    out.push('\n');
}

fn write(format: Format, out: &mut String, events: &[LogEvent]) {
    for event in events {
        match format {
            Format::Csv => {
                let cells = cells(&event.event);
                let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
                csv_row(out, &cells);
            }
            Format::Jsonl => json_line(out, &event.event),
        }
    }
}

struct Walk {
    pool: PgPool,
    org_id: Uuid,
    filter: LogFilter,
    format: Format,
    after: Option<(chrono::DateTime<Utc>, Uuid)>,
    sent: usize,
    started: bool,
    done: bool,
}

/// The next piece of the download: the header first (CSV), then one batch of events at a time.
async fn next_piece(mut walk: Walk) -> Option<(Result<Bytes, actix_web::Error>, Walk)> {
    if walk.done {
        return None;
    }
    let mut out = String::new();
    if !walk.started {
        walk.started = true;
        if walk.format == Format::Csv {
            // A byte order mark, so spreadsheets read the UTF-8 (names in Japanese) as UTF-8.
            out.push('\u{feff}');
            csv_row(&mut out, &COLUMNS);
        }
    }
    let limit = BATCH.min(MAX_ROWS - walk.sent);
    let batch = async {
        let mut conn = walk.pool.acquire().await?;
        store::audit::log_page(
            &mut conn,
            walk.org_id,
            &walk.filter,
            walk.after,
            i64::try_from(limit).unwrap_or(i64::MAX),
        )
        .await
    }
    .await;
    let events = match batch {
        Ok(events) => events,
        Err(err) => {
            // The response has begun: all that can be done is to end it short, and say why.
            tracing::error!(error = %err, "audit log download failed");
            walk.done = true;
            return Some((
                Err(actix_web::error::ErrorServiceUnavailable("database unavailable")),
                walk,
            ));
        }
    };
    write(walk.format, &mut out, &events);
    walk.sent += events.len();
    walk.after = events.last().map(|e| (e.event.time, e.event.id));
    walk.done = events.len() < limit || walk.sent >= MAX_ROWS;
    Some((Ok(Bytes::from(out)), walk))
}

/// The download of the org's events that `filter` selects, newest first.
pub fn download(pool: PgPool, org_id: Uuid, filter: LogFilter, format: Format) -> HttpResponse {
    let walk = Walk {
        pool,
        org_id,
        filter,
        format,
        after: None,
        sent: 0,
        started: false,
        done: false,
    };
    let file = format!(
        "keyward-audit-{org_id}-{}.{}",
        Utc::now().format("%Y-%m-%d"),
        format.extension()
    );
    HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{file}\"")))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(futures_util::stream::unfold(walk, next_piece))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_evaluate_get_a_leading_apostrophe() {
        for cell in ["=SUM(A1:A9)", "+1", "-1", "@cmd", "\tx", "\r=1", "=", "-"] {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
        }
    }

    #[test]
    fn other_cells_are_left_as_they_are() {
        for cell in [
            "",
            "ada",
            "1=1",
            " =1",
            "a-b",
            "{\"reason\":\"revoked\"}",
            "'quoted",
            "203.0.113.9",
            "山田",
        ] {
            assert_eq!(neutralise(cell), cell, "{cell:?}");
        }
    }

    #[test]
    fn every_cell_is_quoted_with_its_quotes_doubled() {
        let mut out = String::new();
        csv_row(&mut out, &["a", "say \"hi\"", "x,y", "line\nbreak", "=1+1", ""]);
        assert_eq!(
            out,
            "\"a\",\"say \"\"hi\"\"\",\"x,y\",\"line\nbreak\",\"'=1+1\",\"\"\r\n"
        );
    }
}
