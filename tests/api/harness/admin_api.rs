//! Calls to the admin API with a key, each answer checked against the served OpenAPI document
//! and the wire format's shapes before the test sees it.

use super::TestApp;

impl TestApp {
    /// `method path` with the key as bearer token.
    pub async fn api(&self, method: reqwest::Method, path: &str, token: &str) -> Answer {
        self.call(method, path, token, None).await
    }

    /// `method path` with the key as bearer token and, when given, a JSON body. The answer is
    /// checked against the served OpenAPI document and the wire format's shapes before the
    /// test sees it (a mismatch fails the test).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&serde_json::Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.address))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let res = request.send().await.expect("request");
        let answer = Answer {
            status: res.status(),
            headers: res.headers().clone(),
            body: res.bytes().await.expect("body").to_vec(),
        };
        self.check_contract(method.as_str(), path, &answer).await;
        answer
    }

    /// The OpenAPI document, as any client would fetch it: without a key.
    pub async fn document(&self) -> &serde_json::Value {
        self.document
            .get_or_init(|| async {
                let res = self.get("/admin/v1/openapi.json").await;
                assert_eq!(res.status(), 200, "the OpenAPI document is served without a key");
                res.json().await.expect("the document is JSON")
            })
            .await
    }

    async fn check_contract(&self, method: &str, path: &str, answer: &Answer) {
        let document = self.document().await;
        let status = answer.status.as_u16();
        let context = || format!("{method} {path} -> {status}: {}", String::from_utf8_lossy(&answer.body));
        if let Some(operation) = crate::harness::contract::operation(document, method, path)
            && let Err(problem) = crate::harness::contract::check_answer(document, operation, status, &answer.body)
        {
            panic!("the answer breaks the OpenAPI document: {problem}\n{}", context());
        }
        let shapes = crate::harness::contract::wire_shapes();
        let shape = match status {
            200..=299 => crate::harness::contract::wire_shape(method, path, status),
            401 => Some(&shapes["errors"]["401"]),
            403 if path.starts_with("/users/") && answer.body.starts_with(b"{\"key\"") => {
                Some(&shapes["errors"]["user_management_403"])
            }
            400..=599 if !answer.body.is_empty() => Some(&shapes["errors"]["application"]),
            _ => None,
        };
        if let Some(shape) = shape {
            let value: serde_json::Value = serde_json::from_slice(&answer.body)
                .unwrap_or_else(|e| panic!("the answer is not JSON ({e})\n{}", context()));
            if let Err(problem) = crate::harness::contract::validate(shapes, shape, &value, "$") {
                panic!("the answer breaks the wire format's shape: {problem}\n{}", context());
            }
        }
    }
}

impl TestApp {
    /// `method path` with the key as bearer token and `body` as JSON (checked like `call`).
    pub async fn api_json(&self, method: reqwest::Method, path: &str, token: &str, body: &serde_json::Value) -> Answer {
        self.call(method, path, token, Some(body)).await
    }
}

/// An admin API answer, read whole (so its body could be checked against the contract).
pub struct Answer {
    status: reqwest::StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    pub fn status(&self) -> reqwest::StatusCode {
        self.status
    }

    pub fn headers(&self) -> &reqwest::header::HeaderMap {
        &self.headers
    }

    pub async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    pub async fn text(self) -> Result<String, std::string::FromUtf8Error> {
        String::from_utf8(self.body)
    }
}

/// An application error's body with its per-answer id blanked, for comparing answers.
pub async fn error_body(res: Answer) -> serde_json::Value {
    let mut body: serde_json::Value = res.json().await.expect("a JSON body");
    body["errors"][0]["id"] = serde_json::Value::Null;
    body
}

/// An answer's JSON body.
pub async fn json_of(res: Answer) -> serde_json::Value {
    res.json().await.expect("a JSON body")
}

/// The status `GET /admin/v1/key` with `token` gets from `base`; 0 when no answer came.
pub async fn key_status_at(client: &reqwest::Client, base: &str, token: &str) -> u16 {
    match client
        .get(format!("{base}/admin/v1/key"))
        .bearer_auth(token)
        .send()
        .await
    {
        Ok(res) => res.status().as_u16(),
        Err(_) => 0,
    }
}

/// The status `GET /admin/v1/key` with `token` gets from `app` as if from client `address`
/// (X-Forwarded-For, through a proxy the instance trusts).
pub async fn key_status_from(app: &TestApp, token: &str, address: &str) -> u16 {
    app.client
        .get(format!("{}/admin/v1/key", app.address))
        .bearer_auth(token)
        .header("X-Forwarded-For", address)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}
