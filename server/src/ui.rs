//! The minutes workbench (bàn làm việc biên bản): the browser UI served by the server itself.
//! Plain HTML, CSS and JavaScript modules under `server/ui/`, embedded into the binary at build
//! time, so a deployment is one file and CI needs no bundler. Static files need no login (they
//! hold no case data); every API call the page makes carries the user's bearer token.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

/// (path under `/ui/`, content type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[
    ("index.html", HTML, include_bytes!("../ui/index.html")),
    ("app.css", CSS, include_bytes!("../ui/app.css")),
    ("app.js", JS, include_bytes!("../ui/app.js")),
    ("api.js", JS, include_bytes!("../ui/api.js")),
    ("model.js", JS, include_bytes!("../ui/model.js")),
    ("player.js", JS, include_bytes!("../ui/player.js")),
    ("editor.js", JS, include_bytes!("../ui/editor.js")),
    ("dom.js", JS, include_bytes!("../ui/dom.js")),
    ("icon.svg", SVG, include_bytes!("../ui/icon.svg")),
];

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// Only the page's own files and API; audio may come from object URLs. No inline script or style
/// attribute is needed by the page, so none is allowed.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
                   form-action 'self'";

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(index))
        .route("/ui/{*path}", get(asset))
}

async fn index() -> Response {
    serve("index.html")
}

async fn asset(Path(path): Path<String>) -> Response {
    serve(&path)
}

fn serve(path: &str) -> Response {
    let Some((name, mime, embedded)) = FILES.iter().find(|(p, _, _)| *p == path) else {
        return crate::error::ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no workbench file `{path}`"),
        )
        .into_response();
    };
    // For working on the UI: `COURTSCRIBE_UI_DIR=server/ui` serves the files from disk, so a
    // change shows on reload without rebuilding. Only the embedded names are served either way.
    let bytes = match std::env::var_os("COURTSCRIBE_UI_DIR") {
        Some(dir) => match std::fs::read(std::path::Path::new(&dir).join(name)) {
            Ok(b) => axum::body::Bytes::from(b),
            Err(_) => axum::body::Bytes::from_static(embedded),
        },
        None => axum::body::Bytes::from_static(embedded),
    };
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // The files change with the binary: always revalidate, never serve last version's script.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::FILES;

    #[test]
    fn every_file_is_utf8_text_without_a_registry_or_cdn_address() {
        for (path, _, bytes) in FILES {
            let text = std::str::from_utf8(bytes).unwrap_or_else(|_| panic!("{path} is not UTF-8"));
            assert!(
                !text.contains("http://") || *path == "icon.svg",
                "{path} names an address"
            );
            assert!(!text.contains("https://"), "{path} names an address");
        }
    }

    #[test]
    fn modules_imported_by_the_page_are_served() {
        for (path, _, bytes) in FILES {
            let text = std::str::from_utf8(bytes).unwrap_or_default();
            for import in text.split("from './").skip(1) {
                let name = import.split('\'').next().unwrap_or_default();
                assert!(
                    FILES.iter().any(|(p, _, _)| *p == name),
                    "{path} imports {name}, which is not embedded"
                );
            }
        }
    }
}
