//! Documentation routes: the OpenAPI document, Swagger UI and ReDoc, all served from the
//! binary so they work offline.

use actix_web::http::{Method, header};
use actix_web::{HttpResponse, web};

/// The vendored ReDoc bundle (npm `redoc` 2.5.4, MIT, logo URL emptied; see `bin/assets/redoc`).
const REDOC_JS: &[u8] = include_bytes!("../../assets/redoc/redoc.standalone.js");
/// ReDoc's license, served next to the bundle.
const REDOC_LICENSE: &str = include_str!("../../assets/redoc/LICENSE");

/// The ReDoc page: loads the bundle and the document from this server only.
const REDOC_HTML: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API reference</title>
  <link rel="icon" href="data:,">
  <style>body { margin: 0; padding: 0; }</style>
</head>
<body>
  <redoc spec-url="/openapi.json"></redoc>
  <script src="/redoc/redoc.standalone.js"></script>
</body>
</html>
"#;

/// `GET /docs`: Swagger UI lives under `/docs/`.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// `GET /openapi.json`: the API document, serialised once at start.
pub async fn openapi_json(document: web::Data<super::ApiDocument>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.0.clone())
}

/// `GET /redoc`: the ReDoc page.
pub async fn redoc() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(REDOC_HTML)
}

/// `GET /redoc/redoc.standalone.js`: the bundle.
pub async fn redoc_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(web::Bytes::from_static(REDOC_JS))
}

/// `GET /redoc/LICENSE`: the bundle's license.
pub async fn redoc_license() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(REDOC_LICENSE)
}

/// Any other method on `/openapi.json` and `/docs/…` (whose GET routes Swagger UI registers
/// behind a GET guard): 405 with `Allow: GET`, as every other route answers a wrong method.
pub async fn get_only() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header(header::Allow(vec![Method::GET]))
        .finish()
}
