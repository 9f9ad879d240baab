//! Where a request carries its token: `Authorization: token=…` (DC/OS's form), `Bearer …`, or
//! the login cookie the dashboard gets (HttpOnly, so page scripts never see it).

use axum::http::{header, HeaderMap};

/// The cookie DC/OS's UI and Admin Router use, kept so bookmarks and tools behave alike.
pub const COOKIE: &str = "dcos-acs-auth-cookie";

pub fn token(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let value = value.trim();
        let token = value
            .strip_prefix("token=")
            .or_else(|| strip_prefix_ignore_case(value, "bearer "))
            .map(str::trim);
        return token.filter(|t| !t.is_empty());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|t| !t.is_empty())
}

fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &value[prefix.len()..])
}

/// Takes the token (header and cookie) off a request the gateway passes on: neither the master
/// nor a service ever sees it, so none can replay it.
pub fn drop_from(headers: &mut HeaderMap) {
    headers.remove(header::AUTHORIZATION);
    headers.remove(header::COOKIE);
}

/// `Set-Cookie` for a fresh token: HttpOnly (no script reads it), Secure (HTTPS only),
/// SameSite=Strict (no other site's page sends it: no CSRF).
pub fn set_cookie(token: &str, max_age_seconds: u64) -> String {
    format!(
        "{COOKIE}={token}; Path=/; Max-Age={max_age_seconds}; HttpOnly; Secure; SameSite=Strict"
    )
}

/// `Set-Cookie` that removes it (logout).
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).expect("value"));
        headers
    }

    #[test]
    fn tokens_are_read_in_each_form() {
        assert_eq!(
            token(&headers(header::AUTHORIZATION, "token=abc")),
            Some("abc")
        );
        assert_eq!(
            token(&headers(header::AUTHORIZATION, "Bearer abc")),
            Some("abc")
        );
        assert_eq!(
            token(&headers(header::AUTHORIZATION, "bearer abc")),
            Some("abc")
        );
        assert_eq!(token(&headers(header::AUTHORIZATION, "Basic abc")), None);
        assert_eq!(token(&headers(header::AUTHORIZATION, "token=")), None);
        assert_eq!(
            token(&headers(
                header::COOKIE,
                "a=1; dcos-acs-auth-cookie=xyz; b=2"
            )),
            Some("xyz")
        );
        assert_eq!(token(&HeaderMap::new()), None);
    }
}
