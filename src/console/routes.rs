//! The console's route table: every page and form, with its method, path, what it is and
//! whether it changes anything. It is the only place console routes are registered
//! (`register`), so it is the list of them: actix-web cannot list its routes afterwards, and a
//! test (`no_route_is_registered_outside_the_table`) finds no other registration in
//! `src/console`.
//!
//! Every route that changes state is a POST whose handler takes a `form::Form`, so its CSRF
//! token and origin are checked before it runs. Error pages (`localize_errors`) wrap the
//! console's routes only: the admin API answers its own errors in JSON.

use actix_web::middleware::from_fn;
use actix_web::web;

use super::{
    PageError, account, api_keys, assets, audit_log, form, home, language, localize_errors, login, members, orgs,
    plain_text, policies, setup,
};
use crate::operations::Method;

/// One console route.
pub struct Route {
    pub method: Method,
    /// The path pattern, as actix-web matches it (`{orgId}` is a segment).
    pub path: &'static str,
    /// What the route is, as a person would name it.
    pub what: &'static str,
    /// Whether a request changes anything (a row, a cookie that signs in or out).
    pub changes_state: bool,
    handler: fn() -> actix_web::Route,
}

impl Route {
    fn actix(&self) -> actix_web::Route {
        (self.handler)().method(self.method.http())
    }
}

const fn get(path: &'static str, what: &'static str, handler: fn() -> actix_web::Route) -> Route {
    Route {
        method: Method::Get,
        path,
        what,
        changes_state: false,
        handler,
    }
}

/// A form post that changes something.
const fn post(path: &'static str, what: &'static str, handler: fn() -> actix_web::Route) -> Route {
    Route {
        method: Method::Post,
        path,
        what,
        changes_state: true,
        handler,
    }
}

/// A form post that only shows a page (a review, a search for a pasted key): still a form, so
/// still checked, but nothing is written.
const fn post_to_read(path: &'static str, what: &'static str, handler: fn() -> actix_web::Route) -> Route {
    Route {
        changes_state: false,
        ..post(path, what, handler)
    }
}

/// The probes: machine-facing, they read nothing a request sends and answer no page, so they
/// are registered outside the console's error pages and checks. `/healthz` is the load
/// benchmark's reference, and stays as cheap as an answer can be.
pub static PROBES: &[Route] = &[
    get("/healthz", "liveness probe", || web::to(home::healthz)),
    get("/readyz", "readiness probe (the database answers)", || {
        web::to(home::readyz)
    }),
];

/// The static files: they read nothing a request sends, so they answer without the check of
/// what it sends (`plain_text`), but a missing one is the console's own 404 page.
pub static ASSETS: &[Route] = &[get("/static/{file}", "stylesheet and scripts", || {
    web::to(assets::serve)
})];

/// The pages and forms, in the order they are tried: a literal segment ahead of a parameter in
/// its place (`api-keys/new` before `api-keys/{keyId}`).
pub static PAGES: &[Route] = &[
    get("/", "home: to the orgs, or to sign in", || web::to(home::show)),
    get("/setup", "first-run setup form", || web::to(setup::show)),
    post("/setup", "first-run setup: the first admin and org", || {
        web::to(setup::submit)
    }),
    get("/login", "sign-in form", || web::to(login::show)),
    post("/login", "sign in", || web::to(login::submit)),
    post("/logout", "sign out", || web::to(login::sign_out)),
    post("/language", "switch the language", || web::to(language::switch)),
    get("/orgs", "choose an org", || web::to(orgs::show)),
    get("/welcome", "set a password from a link", || {
        web::to(members::welcome::show)
    }),
    post("/welcome", "set a password from a link", || {
        web::to(members::welcome::submit)
    }),
    get("/invitations", "an invitation link", || web::to(members::accept::show)),
    post("/invitations", "accept an invitation", || {
        web::to(members::accept::submit)
    }),
    get("/account", "your account", || web::to(account::show)),
    post("/account/profile", "change your name", || {
        web::to(account::profile::save_name)
    }),
    post("/account/language", "change your language", || {
        web::to(account::profile::save_language)
    }),
    post("/account/time-zone", "change your time zone", || {
        web::to(account::profile::save_time_zone)
    }),
    post("/account/password", "change your password", || {
        web::to(account::password::change)
    }),
    post(
        "/account/sessions/sign-out-others",
        "sign out your other sessions",
        || web::to(account::sessions::end_others),
    ),
    post("/account/sessions/{publicId}/sign-out", "sign out one session", || {
        web::to(account::sessions::end_one)
    }),
    get("/o/{orgId}/settings/api-keys", "the org's API keys", || {
        web::to(api_keys::list::show)
    }),
    post("/o/{orgId}/settings/api-keys", "create an API key", || {
        web::to(api_keys::create::create)
    }),
    get("/o/{orgId}/settings/api-keys/new", "the new key form", || {
        web::to(api_keys::create::new)
    }),
    post_to_read("/o/{orgId}/settings/api-keys/review", "review a new key", || {
        web::to(api_keys::create::review)
    }),
    post_to_read("/o/{orgId}/settings/api-keys/find", "find a pasted key", || {
        web::to(api_keys::find::find)
    }),
    get(
        "/o/{orgId}/settings/api-keys/revoke-by-creator",
        "revoke a person's keys: confirm",
        || web::to(members::bulk_revoke::confirm),
    ),
    post(
        "/o/{orgId}/settings/api-keys/revoke-by-creator",
        "revoke a person's keys",
        || web::to(members::bulk_revoke::revoke),
    ),
    get("/o/{orgId}/settings/api-keys/{keyId}", "one key", || {
        web::to(api_keys::detail::show)
    }),
    get(
        "/o/{orgId}/settings/api-keys/{keyId}/revoke",
        "revoke a key: confirm",
        || web::to(api_keys::revoke::confirm),
    ),
    post("/o/{orgId}/settings/api-keys/{keyId}/revoke", "revoke a key", || {
        web::to(api_keys::revoke::revoke)
    }),
    get(
        "/o/{orgId}/settings/members",
        "the org's members and invitations",
        || web::to(members::list::show),
    ),
    post("/o/{orgId}/settings/members", "invite someone", || {
        web::to(members::invite::invite)
    }),
    get("/o/{orgId}/settings/members/new", "the invitation form", || {
        web::to(members::invite::form)
    }),
    post(
        "/o/{orgId}/settings/members/invitations/{invitationId}/link",
        "a new invitation link",
        || web::to(members::invite::new_link),
    ),
    post(
        "/o/{orgId}/settings/members/invitations/{invitationId}/revoke",
        "revoke an invitation",
        || web::to(members::invite::revoke),
    ),
    get("/o/{orgId}/settings/members/{userId}", "one member", || {
        web::to(members::detail::show)
    }),
    get(
        "/o/{orgId}/settings/members/{userId}/remove",
        "remove a member: confirm",
        || web::to(members::offboard::confirm_remove),
    ),
    post("/o/{orgId}/settings/members/{userId}/remove", "remove a member", || {
        web::to(members::offboard::remove)
    }),
    get(
        "/o/{orgId}/settings/members/{userId}/suspend",
        "suspend a member: confirm",
        || web::to(members::offboard::confirm_suspend),
    ),
    post(
        "/o/{orgId}/settings/members/{userId}/suspend",
        "suspend a member",
        || web::to(members::offboard::suspend),
    ),
    get(
        "/o/{orgId}/settings/members/{userId}/demote",
        "demote an admin: confirm",
        || web::to(members::offboard::confirm_demote),
    ),
    post(
        "/o/{orgId}/settings/members/{userId}/role",
        "change a member's role",
        || web::to(members::offboard::set_role),
    ),
    post(
        "/o/{orgId}/settings/members/{userId}/restore",
        "restore a member's access",
        || web::to(members::offboard::restore),
    ),
    post(
        "/o/{orgId}/settings/members/{userId}/password-link",
        "a set-password link",
        || web::to(members::password_link::new_link),
    ),
    get(
        "/o/{orgId}/settings/audit-log",
        "the audit log and its downloads",
        || web::to(audit_log::show),
    ),
    get("/o/{orgId}/settings/policies", "the org's policies", || {
        web::to(policies::list::show)
    }),
    post("/o/{orgId}/settings/policies", "create a policy", || {
        web::to(policies::form::create)
    }),
    get("/o/{orgId}/settings/policies/new", "the new policy form", || {
        web::to(policies::form::new)
    }),
    get("/o/{orgId}/settings/policies/{policyId}", "edit a policy", || {
        web::to(policies::form::edit)
    }),
    post("/o/{orgId}/settings/policies/{policyId}", "save a policy", || {
        web::to(policies::form::update)
    }),
    post(
        "/o/{orgId}/settings/policies/{policyId}/enable",
        "enable a policy",
        || web::to(policies::actions::enable),
    ),
    post(
        "/o/{orgId}/settings/policies/{policyId}/disable",
        "disable a policy",
        || web::to(policies::actions::disable),
    ),
    get(
        "/o/{orgId}/settings/policies/{policyId}/delete",
        "delete a policy: confirm",
        || web::to(policies::actions::confirm),
    ),
    post(
        "/o/{orgId}/settings/policies/{policyId}/delete",
        "delete a policy",
        || web::to(policies::actions::delete),
    ),
];

/// Registers the table: the probes as they are; then, inside the console's error pages, the
/// static files, and the pages behind the check of what they are sent, with a localized 404
/// for any other path.
pub fn register(cfg: &mut web::ServiceConfig) {
    for route in PROBES {
        cfg.route(route.path, route.actix());
    }
    let pages = |cfg: &mut web::ServiceConfig| {
        for route in PAGES {
            cfg.route(route.path, route.actix());
        }
        cfg.default_service(web::to(not_found));
    };
    let console = |cfg: &mut web::ServiceConfig| {
        for route in ASSETS {
            cfg.route(route.path, route.actix());
        }
        cfg.service(
            web::scope("")
                .wrap(from_fn(plain_text::refuse_control_characters))
                .configure(pages),
        );
    };
    cfg.service(
        web::scope("")
            .wrap(from_fn(localize_errors))
            .app_data(web::PayloadConfig::new(form::LIMIT))
            .configure(console),
    );
}

async fn not_found() -> Result<actix_web::HttpResponse, PageError> {
    Err(PageError::NotFound)
}

#[cfg(test)]
mod tests {
    use actix_web::dev::ResourceDef;
    use uuid::Uuid;

    use super::*;
    use crate::console::urls::{OrgUrls, Site, Url};

    fn routed(url: &Url, method: Method) -> bool {
        PAGES
            .iter()
            .chain(PROBES)
            .chain(ASSETS)
            .any(|route| route.method == method && ResourceDef::new(route.path).is_match(url.path()))
    }

    #[test]
    fn every_url_is_a_route() {
        let org = OrgUrls::of(Uuid::new_v4());
        let id = Uuid::new_v4();
        let gets = [
            Site.home(),
            Site.setup(),
            Site.login(),
            Site.orgs(),
            Site.account(),
            Site.welcome(),
            Site.invitations(),
            Site.asset("keyward.css"),
            org.keys(),
            org.new_key("scoped"),
            org.key(id),
            org.revoke_key(id),
            org.revoke_by_creator(),
            org.members(),
            org.invite(),
            org.member(id),
            org.remove_member(id),
            org.suspend_member(id),
            org.demote_member(id),
            org.audit_log(),
            org.policies(),
            org.new_policy("ip-allowlist"),
            org.policy(id),
            org.delete_policy(id),
        ];
        let posts = [
            Site.setup(),
            Site.login(),
            Site.logout(),
            Site.language(),
            Site.account_profile(),
            Site.account_language(),
            Site.account_time_zone(),
            Site.account_password(),
            Site.sign_out_other_sessions(),
            Site.sign_out_session("abc"),
            Site.welcome(),
            Site.invitations(),
            org.keys(),
            org.review_key(),
            org.find_key(),
            org.revoke_key(id),
            org.revoke_by_creator(),
            org.members(),
            org.member_role(id),
            org.restore_member(id),
            org.remove_member(id),
            org.suspend_member(id),
            org.password_link(id),
            org.invitation_link(id),
            org.revoke_invitation(id),
            org.policies(),
            org.policy(id),
            org.enable_policy(id),
            org.disable_policy(id),
            org.delete_policy(id),
        ];
        for url in gets {
            assert!(routed(&url, Method::Get), "no GET route for {url}");
        }
        for url in posts {
            assert!(routed(&url, Method::Post), "no POST route for {url}");
        }
    }

    /// Every `.rs` file under `dir`, recursively.
    fn sources(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).expect("read src/console") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                found.extend(sources(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
        found
    }

    #[test]
    fn no_route_is_registered_outside_the_table() {
        let console = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console");
        let this = console.join("routes.rs");
        let files = sources(&console);
        assert!(files.len() > 20, "found the console's sources");
        for file in files.into_iter().filter(|f| *f != this) {
            let text = std::fs::read_to_string(&file).expect("read");
            for registration in [
                ".route(",
                "web::resource(",
                ".service(",
                "web::scope(",
                "default_service(",
            ] {
                assert!(
                    !text.contains(registration),
                    "{} registers a route ({registration}) outside the route table",
                    file.display()
                );
            }
        }
    }

    #[test]
    fn only_posts_change_state_and_no_path_is_registered_twice_for_a_method() {
        let all: Vec<&Route> = PAGES.iter().chain(PROBES).chain(ASSETS).collect();
        for route in &all {
            assert!(
                !route.changes_state || route.method == Method::Post,
                "{} {} changes state",
                route.method.lower(),
                route.path
            );
        }
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert!(!(a.method == b.method && a.path == b.path), "{} twice", a.path);
            }
        }
    }
}
