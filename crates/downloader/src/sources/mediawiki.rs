//! The MediaWiki Action API that Wikidata and Commons share (www.mediawiki.org/wiki/API:Etiquette):
//! JSON with `formatversion=2`, `maxlag=5` so that a lagging cluster is left alone, requests one at
//! a time, the tool's User-Agent, and `{"error": …}` answers surfaced instead of read as "no
//! results".

use std::time::Duration;

use serde_json::Value;

use super::SourceError;
use crate::transport::{Client, Manners, Request, ACCEPT_JSON};

/// API answers are small; anything bigger is not an API answer.
const MAX_ANSWER_BYTES: u64 = 16 << 20;
/// Times a `maxlag` answer is waited out before giving up.
const MAXLAG_TRIES: u32 = 3;

/// A MediaWiki API endpoint.
#[derive(Clone)]
pub struct Api<'a> {
    pub client: &'a Client,
    /// e.g. `https://commons.wikimedia.org`.
    pub base: String,
    /// For messages: `Wikidata`, `Wikimedia Commons`.
    pub service: &'static str,
    pub retries: u32,
}

impl Api<'_> {
    /// GET `api.php` with `params` (plus `format=json&formatversion=2&maxlag=5`).
    pub fn get(&self, params: &[(&str, &str)]) -> Result<Value, SourceError> {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("format", "json");
        query.append_pair("formatversion", "2");
        query.append_pair("maxlag", "5");
        for (key, value) in params {
            query.append_pair(key, value);
        }
        let url = format!("{}/w/api.php?{}", super::base(&self.base), query.finish());
        let mut tries = 0;
        loop {
            let request = Request::new(&url, Manners::Tool, self.retries, MAX_ANSWER_BYTES)
                .accept(ACCEPT_JSON);
            let response = self.client.get(&request)?;
            let answer: Value =
                serde_json::from_slice(&response.body).map_err(|e| SourceError::Shape {
                    service: self.service,
                    message: format!("not JSON ({e})"),
                })?;
            let Some(error) = answer.get("error") else {
                return Ok(answer);
            };
            let text = |key: &str| {
                error
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let code = text("code");
            tries += 1;
            if code == "maxlag" && tries < MAXLAG_TRIES {
                // The servers are behind on replication: the etiquette is to wait and ask again.
                std::thread::sleep(Duration::from_secs(5));
                continue;
            }
            return Err(SourceError::Api {
                service: self.service,
                code,
                info: text("info"),
            });
        }
    }
}

/// The parameters a `continue` object asks to be sent back with the next request.
pub fn continuation(answer: &Value) -> Option<Vec<(String, String)>> {
    let object = answer.get("continue")?.as_object()?;
    Some(
        object
            .iter()
            .map(|(key, value)| {
                let value = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (key.clone(), value)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_is_echoed_whatever_its_keys() {
        let answer: Value = serde_json::from_str(
            r#"{"continue":{"gsroffset":50,"continue":"gsroffset||","iicontinue":"A.jpg|2019"}}"#,
        )
        .unwrap();
        let mut params = continuation(&answer).unwrap();
        params.sort();
        assert_eq!(
            params,
            vec![
                ("continue".to_string(), "gsroffset||".to_string()),
                ("gsroffset".to_string(), "50".to_string()),
                ("iicontinue".to_string(), "A.jpg|2019".to_string()),
            ]
        );
        assert!(continuation(&serde_json::json!({"batchcomplete": true})).is_none());
    }
}
