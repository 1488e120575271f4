//! An invitation as people go through it in the console: the members form that sends it, the
//! link it shows once, and the link's page where the invited person accepts or creates their
//! account.

use uuid::Uuid;

use super::console::Console;
use super::html::Page;

/// Sends a link page's create-account form with this CSRF token: a name, and the password twice.
pub async fn send_create_form(
    browser: &Console,
    csrf: &str,
    token: &str,
    name: &str,
    password: &str,
) -> reqwest::Response {
    let fields = [
        ("csrf", csrf),
        ("token", token),
        ("action", "create"),
        ("name", name),
        ("password", password),
        ("password_confirm", password),
    ];
    browser.post("/invitations", &fields).await
}

/// The invitation link a page shows, once.
pub fn invitation_link(html: &str) -> String {
    Page::parse(html)
        .text("#invitation-link")
        .expect("an invitation link on the page")
}

/// The token of the invitation link a page shows.
pub fn invitation_token(html: &str) -> String {
    let link = invitation_link(html);
    link.split_once("/invitations?token=")
        .unwrap_or_else(|| panic!("not an invitation link: {link}"))
        .1
        .to_owned()
}

/// The page a link opens.
pub fn link_path(token: &str) -> String {
    format!("/invitations?token={token}")
}

/// The CSRF token of the form on an invitation link's page (not the language switch's).
pub fn link_form_csrf(html: &str) -> String {
    Page::parse(html).form_token("/invitations")
}

/// Sends the members form: `email` invited to `org` in `role`.
pub async fn invite(console: &Console, csrf: &str, org: Uuid, email: &str, role: &str) -> reqwest::Response {
    console
        .post(
            &format!("/o/{org}/settings/members"),
            &[("csrf", csrf), ("email", email), ("role", role)],
        )
        .await
}

/// Opens the link in `browser` and creates the invited address's account there.
pub async fn create_account(browser: &Console, token: &str, name: &str, password: &str) -> reqwest::Response {
    let csrf = link_form_csrf(&browser.page(&link_path(token)).await);
    send_create_form(browser, &csrf, token, name, password).await
}

/// Opens the link in `browser`, signed in as the invited address, and accepts.
pub async fn accept(browser: &Console, token: &str) -> reqwest::Response {
    let csrf = link_form_csrf(&browser.page(&link_path(token)).await);
    browser
        .post(
            "/invitations",
            &[("csrf", &csrf), ("token", token), ("action", "accept")],
        )
        .await
}
