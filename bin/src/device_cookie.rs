//! The device token as a cookie: `HttpOnly`, `Secure`, `SameSite=Strict`, scoped to `/auth`,
//! so a browser sends it back at its next sign-in and no script can read it.
//!
//! Clients without cookies use the `device_token` field of the login body and of the token
//! response instead; the body field wins when both are given.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponseBuilder};
use secrecy::{ExposeSecret as _, SecretString};

/// The cookie's name.
pub const NAME: &str = "device_token";

/// The device token the request's cookie carries, if any.
pub fn read(req: &HttpRequest) -> Option<SecretString> {
    req.cookie(NAME)
        .map(|cookie| SecretString::from(cookie.value().to_owned()))
}

/// Sets the cookie holding `token` for `max_age` on `response`.
pub fn set(response: &mut HttpResponseBuilder, token: &SecretString, max_age: time::Duration) {
    let cookie = Cookie::build(NAME, token.expose_secret().to_owned())
        .path("/auth")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds(max_age.whole_seconds()))
        .finish();
    response.cookie(cookie);
}

#[cfg(test)]
mod tests {
    use actix_web::HttpResponse;
    use actix_web::http::header;
    use actix_web::test::TestRequest;
    use secrecy::{ExposeSecret as _, SecretString};

    use super::{read, set};

    #[test]
    fn the_cookie_is_http_only_secure_strict_and_scoped_to_auth() {
        let mut response = HttpResponse::Ok();
        set(
            &mut response,
            &SecretString::from("t0k"),
            time::Duration::days(90),
        );
        let response = response.finish();
        let value = response
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        for part in [
            "device_token=t0k",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/auth",
            "Max-Age=7776000",
        ] {
            assert!(value.contains(part), "{value} lacks {part}");
        }
    }

    #[test]
    fn the_token_is_read_back_from_the_cookie_header() {
        let req = TestRequest::default()
            .insert_header((header::COOKIE, "other=1; device_token=abc"))
            .to_http_request();
        assert_eq!(read(&req).unwrap().expose_secret(), "abc");
        assert!(read(&TestRequest::default().to_http_request()).is_none());
    }
}
