//! The email API over workerd's fetch (see `mailer`): the provider at `EMAIL_API_URL`.

use futures::future::LocalBoxFuture;
use worker::{Fetch, Headers, Method, Request, RequestInit};

use crate::mailer::{api_body, Email, MailError, Mailer};

pub struct FetchMailer {
    pub url: String,
    pub key: String,
}

impl FetchMailer {
    async fn post(&self, email: &Email, idempotency_key: &str) -> Result<(), MailError> {
        let un = |e: worker::Error| MailError::Unreachable(e.to_string());
        let headers = Headers::new();
        headers
            .set("authorization", &format!("Bearer {}", self.key))
            .map_err(un)?;
        headers
            .set("content-type", "application/json")
            .map_err(un)?;
        headers
            .set("idempotency-key", idempotency_key)
            .map_err(un)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(api_body(email).to_string().into()));
        let req = Request::new_with_init(&self.url, &init).map_err(un)?;
        let res = Fetch::Request(req).send().await.map_err(un)?;
        match res.status_code() {
            200..=299 => Ok(()),
            s => Err(MailError::Refused(s)),
        }
    }
}

impl Mailer for FetchMailer {
    fn send<'a>(
        &'a self,
        email: &'a Email,
        idempotency_key: &'a str,
    ) -> LocalBoxFuture<'a, Result<(), MailError>> {
        Box::pin(self.post(email, idempotency_key))
    }
}
