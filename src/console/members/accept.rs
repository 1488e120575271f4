//! `/invitations?token=`: where an invitation link lands. Whoever holds the link sees the org,
//! the role and the invited address, and which of two ways it asks for: an existing account
//! signs in as the invited address and accepts (any other signed-in account is refused), and a
//! person without an account creates it here (name and password) and is signed in. A link that
//! was revoked, used, issued again, withdrawn or has expired says so.

use crate::console::urls::OrgUrls;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::console::catalog::Lang;
use crate::console::catalog::invitations::{self as catalog, Messages};
use crate::console::form::{self, BoundTo, ConsoleForm, Form};
use crate::console::session::{self, Session, Viewer};
use crate::console::{Layout, PageError, field_errors, login, origin, presession, render_with_cookie};
use crate::domain::member::Role;
use crate::domain::{DisplayName, NewPassword};
use crate::service::people::invitations::{self, AcceptError, Opened, Unusable};
use crate::state::AppState;
use crate::store::invitations::Invitation;

/// The pre-session CSRF purpose of the create-account form.
const CSRF_PURPOSE: &str = "invitation";

/// Carries the link's token: deliberately not `Debug`.
#[derive(Default, Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
}

/// Carries the link's token and maybe a password: deliberately not `Debug`.
#[derive(Default, Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    token: String,
    /// `accept` (signed in as the invited account) or `create` (a new account).
    #[serde(default)]
    action: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// `accept` is sent signed in, `create` before an account exists.
impl ConsoleForm for AcceptForm {
    const BOUND_TO: BoundTo = BoundTo::Viewer(CSRF_PURPOSE);
}

/// What the page offers.
enum Offer {
    /// Nothing: the link cannot be used, and `problem` says why.
    Nothing,
    /// Sign in as the invited address, then come back.
    SignIn { next: String },
    /// Signed in as the invited address: accept.
    Accept,
    /// Signed in as someone else: sign out first.
    SignOut { current: String },
    /// No account has the address: create it here.
    Create,
}

#[derive(Template)]
#[template(path = "members/accept.html")]
struct AcceptPage {
    layout: Layout,
    i: &'static Messages,
    heading: String,
    intro: Option<String>,
    problem: Option<String>,
    offer: Offer,
    /// The form's CSRF token: the session's to accept, the pre-session's to create.
    csrf: String,
    token: String,
    email: String,
    name: String,
    name_error: Option<String>,
    password_error: Option<String>,
    confirm_error: Option<String>,
}

impl AcceptPage {
    fn offers_sign_in(&self) -> Option<&str> {
        match &self.offer {
            Offer::SignIn { next } => Some(next),
            _ => None,
        }
    }

    /// This link's path, where signing in again comes back to.
    fn link_path(&self) -> String {
        format!("{}{}", invitations::PATH, self.token)
    }

    /// The sign-in page's query: back to this link afterwards.
    fn sign_in_query(&self, next: &str) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish()
    }

    fn offers_accept(&self) -> bool {
        matches!(self.offer, Offer::Accept)
    }

    fn offers_create(&self) -> bool {
        matches!(self.offer, Offer::Create)
    }

    fn signed_in_as(&self) -> Option<String> {
        match &self.offer {
            Offer::SignOut { current } => Some(self.layout.fill(
                &crate::console::catalog::fill(self.i.wrong_account, &[("email", &self.email)]),
                "current",
                current,
            )),
            _ => None,
        }
    }
}

#[derive(Template)]
#[template(path = "members/joined.html")]
struct JoinedPage {
    layout: Layout,
    i: &'static Messages,
    heading: String,
    message: String,
    /// The org's keys page, for an admin.
    open: Option<(String, String)>,
}

fn unusable_message(i: &Messages, why: Unusable) -> &'static str {
    match why {
        Unusable::Unknown => i.unknown,
        Unusable::Accepted => i.used,
        Unusable::Revoked => i.revoked,
        Unusable::Expired => i.expired,
        Unusable::Withdrawn => i.withdrawn,
    }
}

/// The page's layout: a signed-in viewer's, else an anonymous one bound to the pre-session. Its
/// language switch comes back to the link, also from the answer to a POST (`/invitations`
/// alone would be an unknown link).
fn layout(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    session: Option<&Session>,
    presession: &str,
    token: &str,
) -> Layout {
    let mut layout = match session {
        Some(session) => Layout::signed_in(lang, session, state, req),
        None => Layout::anonymous(state, lang, presession, req),
    };
    layout.here = format!("{}{}", invitations::PATH, token);
    layout
}

/// The page for a link: what it invites to, and what the viewer can do with it.
fn page(
    state: &AppState,
    layout: Layout,
    session: Option<&Session>,
    presession: &str,
    token: &str,
    opened: Option<&Opened>,
) -> AcceptPage {
    let i = catalog::of(layout.lang);
    let mut page = AcceptPage {
        heading: i.invited_title.to_owned(),
        intro: None,
        problem: None,
        offer: Offer::Nothing,
        csrf: String::new(),
        token: token.to_owned(),
        email: String::new(),
        name: String::new(),
        name_error: None,
        password_error: None,
        confirm_error: None,
        i,
        layout,
    };
    let Some(opened) = opened else {
        page.problem = Some(i.unknown.to_owned());
        return page;
    };
    let invitation = &opened.invitation;
    page.heading = page.layout.fill(i.join_title, "org", &invitation.org_name);
    page.intro = Some(crate::console::catalog::fill(
        i.join_intro,
        &[
            ("org", &invitation.org_name),
            ("role", i.as_role(invitation.role)),
            ("email", &invitation.email),
        ],
    ));
    page.email = invitation.email.clone();
    if let Err(why) = opened.usable {
        page.problem = Some(unusable_message(i, why).to_owned());
        return page;
    }
    if !opened.account_exists && !opened.creatable {
        page.problem = Some(page.layout.fill(i.domain_managed_elsewhere, "email", &invitation.email));
        return page;
    }
    page.offer = match (opened.account_exists, session) {
        (false, None) => Offer::Create,
        // Someone else's session: the new account is made after signing out.
        (false, Some(session)) => Offer::SignOut {
            current: session.user.email.clone(),
        },
        (true, None) => Offer::SignIn {
            next: format!("{}{}", invitations::PATH, token),
        },
        (true, Some(session)) if is_invited(session, invitation) => Offer::Accept,
        (true, Some(session)) => Offer::SignOut {
            current: session.user.email.clone(),
        },
    };
    page.csrf = form::token::<AcceptForm>(state, session, presession);
    page
}

fn is_invited(session: &Session, invitation: &Invitation) -> bool {
    crate::domain::email::normalize(&session.user.email) == invitation.email_normalized
}

fn status_of(page: &AcceptPage) -> StatusCode {
    match (&page.offer, &page.problem) {
        (Offer::Nothing, _) => StatusCode::BAD_REQUEST,
        (Offer::SignOut { .. }, _) => StatusCode::FORBIDDEN,
        (_, Some(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    }
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, PageError> {
    let presession = presession::get_or_create(&req, &state);
    let opened = invitations::open(&state.pool, &query.token).await?;
    let layout = layout(
        &state,
        &req,
        viewer.lang,
        viewer.session.as_ref(),
        &presession.value,
        &query.token,
    );
    let page = page(
        &state,
        layout,
        viewer.session.as_ref(),
        &presession.value,
        &query.token,
        opened.as_ref(),
    );
    render_with_cookie(status_of(&page), &page, presession.new_cookie)
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: Form<AcceptForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let presession = presession::get_or_create(&req, &state);
    let lang = viewer.lang;
    let i = catalog::of(lang);
    let origin = origin(&req, &state);
    let page_layout = || {
        layout(
            &state,
            &req,
            lang,
            viewer.session.as_ref(),
            &presession.value,
            &form.token,
        )
    };
    let outcome = match form.action.as_str() {
        "accept" => {
            let session = viewer.session.as_ref().ok_or(PageError::Forbidden)?;
            invitations::accept_signed_in(&state.pool, &form.token, session.user_id(), &origin)
                .await
                .map(|invitation| (invitation, None))
        }
        "create" => {
            let layout = page_layout();
            let t = layout.t;
            let opened = invitations::open(&state.pool, &form.token).await?;
            let mut page = page(
                &state,
                layout,
                viewer.session.as_ref(),
                &presession.value,
                &form.token,
                opened.as_ref(),
            );
            if !page.offers_create() {
                return render_with_cookie(status_of(&page), &page, None);
            }
            page.name = form.name.clone();
            let name = DisplayName::parse(&form.name)
                .map_err(|e| page.name_error = Some(field_errors::name(t, &e)))
                .ok();
            let password = match NewPassword::parse(&form.password) {
                Ok(password) => match password.confirm(&form.password_confirm) {
                    Ok(()) => Some(password),
                    Err(e) => {
                        page.confirm_error = Some(field_errors::password(t, &e));
                        None
                    }
                },
                Err(e) => {
                    page.password_error = Some(field_errors::password(t, &e));
                    None
                }
            };
            let (Some(name), Some(password)) = (name, password) else {
                return render_with_cookie(StatusCode::UNPROCESSABLE_ENTITY, &page, None);
            };
            let password_hash = crate::console::hash_password(&state, &password).await?;
            invitations::accept_with_new_account(&state.pool, &form.token, &name, &password_hash, &origin)
                .await
                .map(|(invitation, user_id)| (invitation, Some(user_id)))
        }
        _ => return Err(PageError::BadInput("action".into())),
    };
    let (invitation, new_account) = match outcome {
        Ok(joined) => joined,
        Err(AcceptError::Database(db)) => return Err(db.into()),
        Err(refusal) => {
            // Shown again as it stands now, with what went wrong.
            let opened = invitations::open(&state.pool, &form.token).await?;
            let layout = page_layout();
            let mut page = page(
                &state,
                layout,
                viewer.session.as_ref(),
                &presession.value,
                &form.token,
                opened.as_ref(),
            );
            if let AcceptError::AccountExists = refusal {
                page.problem = Some(crate::console::catalog::fill(
                    i.account_exists_now,
                    &[("email", &page.email)],
                ));
            }
            return render_with_cookie(status_of(&page), &page, None);
        }
    };
    tracing::info!(org_id = %invitation.org_id, invitation_id = %invitation.id, "invitation accepted");
    joined(&req, &state, lang, viewer.session, &invitation, new_account).await
}

/// The answer to an accepted invitation; a new account is signed in with it, and the page is
/// already that session's (its header, and its language switch's token).
async fn joined(
    req: &HttpRequest,
    state: &AppState,
    lang: Lang,
    session: Option<Session>,
    invitation: &Invitation,
    new_account: Option<uuid::Uuid>,
) -> Result<HttpResponse, PageError> {
    let (session, new_cookie) = match new_account {
        Some(user_id) => {
            let mut tx = state.pool.begin().await?;
            let id = login::begin_session(&mut tx, req, state, user_id).await?;
            let id_hash = session::id_hash(&id);
            let user = crate::store::sessions::find_live(&mut tx, &id_hash)
                .await?
                .ok_or_else(|| PageError::Internal(anyhow::anyhow!("the new session is not live")))?;
            tx.commit().await?;
            (Some(Session { id_hash, user }), Some(session::cookie(state, id)))
        }
        None => (session, None),
    };
    // Accepting takes a session, and creating an account starts one: never `None` here.
    let mut layout = match &session {
        Some(session) => Layout::signed_in(lang, session, state, req),
        None => Layout::new(lang),
    };
    // Nothing to come back to at `/invitations` once accepted: the console's home.
    layout.here = "/".into();
    let i = catalog::of(layout.lang);
    let org = &invitation.org_name;
    let page = JoinedPage {
        heading: layout.fill(i.joined_title, "org", org),
        message: layout.fill(
            match invitation.role {
                Role::Admin => i.joined_admin,
                Role::Member => i.joined_member,
            },
            "org",
            org,
        ),
        open: match invitation.role {
            Role::Admin => Some((
                OrgUrls::of(invitation.org_id).keys().to_string(),
                layout.fill(i.open_org, "org", org),
            )),
            Role::Member => None,
        },
        layout,
        i,
    };
    let mut res = render_with_cookie(StatusCode::OK, &page, None)?;
    if let Some(cookie) = new_cookie {
        res.add_cookie(&cookie).map_err(|e| PageError::Internal(e.into()))?;
    }
    Ok(res)
}
