//! A browser on the console: a cookie-keeping client that signs in through the sign-in form as
//! a person would (the pre-session cookie, the form's hidden token, then the POST), and people
//! with a known password to sign in as.

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};

use super::TestApp;
use super::html::Page;

/// The password of every person `person` makes.
pub const PASSWORD: &str = "correct horse battery staple";

/// An active account with `PASSWORD`, named after its email.
pub async fn person(app: &TestApp, email: &str) -> uuid::Uuid {
    let user = app.user(email, None).await;
    let hash = keyward::auth::argon2id::hash(PASSWORD.as_bytes()).expect("argon2id hash");
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(user)
        .bind(hash)
        .execute(&app.pool)
        .await
        .expect("password");
    user
}

/// What the admin API answers `token` on a scoped endpoint of `org`: 200 while the key works.
pub async fn directories_status(app: &TestApp, org: impl std::fmt::Display, token: &str) -> u16 {
    app.api(
        reqwest::Method::GET,
        &format!("/admin/v2/orgs/{org}/directories"),
        token,
    )
    .await
    .status()
    .as_u16()
}

/// The token of the sign-in form itself (a page's first `csrf` input is its language switch's).
pub fn sign_in_token(html: &str) -> String {
    Page::parse(html).form_token("/login")
}

/// One browser. On an instance that trusts the loopback proxy, `from` is the client address
/// its requests come from (X-Forwarded-For).
pub struct Console {
    pub client: reqwest::Client,
    jar: Arc<Jar>,
    url: url::Url,
    from: Option<String>,
}

impl Console {
    pub fn new(app: &TestApp) -> Console {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Console {
            client,
            jar,
            url: app.address.parse().expect("the instance's URL"),
            from: None,
        }
    }

    /// A browser at client address `address` (for an instance behind a trusted proxy).
    pub fn from(app: &TestApp, address: &str) -> Console {
        Console {
            from: Some(address.to_owned()),
            ..Console::new(app)
        }
    }

    /// A browser that has signed in as `email` with `PASSWORD`.
    pub async fn signed_in(app: &TestApp, email: &str) -> Console {
        let console = Console::new(app);
        console.sign_in_as(email).await;
        console
    }

    /// Signs this browser in as `email` with `PASSWORD`, asserting it is let in.
    pub async fn sign_in_as(&self, email: &str) {
        let res = self.sign_in(email, PASSWORD, "").await;
        assert_eq!(
            res.status(),
            303,
            "{email} signs in: {}",
            res.text().await.unwrap_or_default()
        );
    }

    /// A browser that holds this cookie and nothing else (a stolen or remembered one).
    pub fn with_cookie(app: &TestApp, name: &str, value: &str) -> Console {
        let console = Console::new(app);
        console
            .jar
            .add_cookie_str(&format!("{name}={value}; Path=/"), &console.url);
        console
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .client
            .request(method, format!("{}{}", self.url.as_str().trim_end_matches('/'), path));
        match &self.from {
            Some(address) => request.header("X-Forwarded-For", address),
            None => request,
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path).send().await.expect("request")
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.request(reqwest::Method::POST, path)
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// A page's body, asserting it answered 200.
    pub async fn page(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.text().await.expect("body")
    }

    /// The sign-in form's token for this browser (fetching the form sets its pre-session cookie).
    pub async fn sign_in_form(&self, next: &str) -> String {
        let path = match next {
            "" => "/login".to_owned(),
            next => format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            ),
        };
        sign_in_token(&self.page(&path).await)
    }

    /// Fills in and sends the sign-in form.
    pub async fn sign_in(&self, email: &str, password: &str, next: &str) -> reqwest::Response {
        let csrf = self.sign_in_form(next).await;
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("next", next),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// The signed-in session's token, as its pages carry it.
    pub async fn csrf(&self) -> String {
        Page::parse(&self.page("/orgs").await).input("html", "csrf")
    }

    /// The value of a cookie this browser would send.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let header = self.jar.cookies(&self.url)?;
        let header = header.to_str().ok()?.to_owned();
        header.split("; ").find_map(|pair| {
            pair.split_once('=')
                .filter(|(n, _)| *n == name)
                .map(|(_, value)| value.to_owned())
        })
    }
}
