//! One admin of one org, signed in to the console through its sign-in form: the fixture every
//! console test starts from. It knows its instance, its org and account, its browser and the
//! session's CSRF token, and how to post a form and make a key the way a person does.

use uuid::Uuid;

use super::console::{Console, directories_status, person};
use super::html::Page;
use super::{TestApp, TestKey};

/// Who signs in, to which org, from where.
pub struct Admin {
    /// The org's name (Japanese by default, so that a Japanese page shows no English word that is
    /// not a message).
    pub org: &'static str,
    pub email: &'static str,
    /// The client address the browser's requests come from, on an instance behind a trusted
    /// proxy (`behind_proxy`); straight from loopback when None.
    pub from: Option<&'static str>,
}

impl Default for Admin {
    fn default() -> Admin {
        Admin {
            org: "アクメ株式会社",
            email: "yamada@example.com",
            from: None,
        }
    }
}

/// An admin of a fresh org, signed in.
pub struct SignedInAdmin {
    pub app: TestApp,
    pub org: Uuid,
    pub user: Uuid,
    pub console: Console,
    /// The session's CSRF token, as its pages carry it.
    pub csrf: String,
}

impl SignedInAdmin {
    /// The default admin on a new default instance.
    pub async fn new() -> SignedInAdmin {
        SignedInAdmin::on(TestApp::spawn().await, Admin::default()).await
    }

    /// `admin` made and signed in on `app`.
    pub async fn on(app: TestApp, admin: Admin) -> SignedInAdmin {
        let org = app.org(admin.org).await;
        let user = person(&app, admin.email).await;
        app.member(org, user, "admin").await;
        let console = match admin.from {
            Some(address) => Console::from(&app, address),
            None => Console::new(&app),
        };
        console.sign_in_as(admin.email).await;
        let csrf = console.csrf().await;
        SignedInAdmin {
            app,
            org,
            user,
            console,
            csrf,
        }
    }

    /// A path under this org's pages: `self.org_path("/settings/api-keys")`.
    pub fn org_path(&self, rest: &str) -> String {
        format!("/o/{}{rest}", self.org)
    }

    /// Posts `fields` with this session's token first.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.console.post(path, &form).await
    }

    /// Posts `fields` with this session's token, but from another site (an `Origin` not ours).
    pub async fn post_from_another_site(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.console
            .request(reqwest::Method::POST, path)
            .header("Origin", "https://evil.example")
            .form(&form)
            .send()
            .await
            .expect("request")
    }

    /// A page's body, asserting it answered 200.
    pub async fn page(&self, path: &str) -> String {
        self.console.page(path).await
    }

    /// What the admin API answers `key` on a scoped endpoint of this org: 200 while it works.
    pub async fn key_status(&self, key: &TestKey) -> u16 {
        directories_status(&self.app, self.org, &key.token).await
    }

    /// The keys page's path.
    pub fn keys(&self) -> String {
        self.org_path("/settings/api-keys")
    }

    /// The key form's review step's answer for `fields`.
    pub async fn review_key(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        self.post(&format!("{}/review", self.keys()), fields).await
    }

    /// Reviews the key form, then posts the review page's own form: the show-once answer, and
    /// the form that was sent (to send again).
    pub async fn create_key(&self, fields: &[(&str, &str)]) -> (reqwest::Response, Vec<(String, String)>) {
        let review = self.review_key(fields).await;
        assert_eq!(review.status(), 200, "the review step accepts {fields:?}");
        let form = create_form(&review.text().await.expect("review page"));
        let res = self.console.post(&self.keys(), &pairs(&form)).await;
        (res, form)
    }
}

/// Borrowed pairs of a form's owned fields, to post.
pub fn pairs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Every hidden field of a key review page's create form, in order.
pub fn create_form(html: &str) -> Vec<(String, String)> {
    Page::parse(html).hidden_fields(r#"form[method="post"][action^="/o/"]"#)
}
