//! What `/openapi.json` says about sign-in beyond the operation list: the login body is a
//! `oneOf` (email or username, never both), and every `TokenResponse` links to refresh,
//! logout and me. The links are followed against the server, so a wrong expression fails.

use auth_tests::{TestUser, api_test, assert_error};
use serde_json::{Value, json};

/// The operations whose success answers a `TokenResponse`: (path, status).
const TOKEN_ANSWERS: [(&str, &str); 3] = [
    ("/auth/register", "201"),
    ("/auth/login", "200"),
    ("/auth/refresh", "200"),
];

/// Resolves a local `$ref` (`#/components/schemas/X`) in `doc`, or returns `schema` itself.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(pointer) => doc
            .pointer(pointer.trim_start_matches('#'))
            .expect("the $ref resolves"),
        None => schema,
    }
}

/// Evaluates `$response.body#/pointer`, alone or embedded in `{…}`, against `body`.
fn evaluate(expression: &str, body: &Value) -> String {
    let value = |pointer: &str| {
        body.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{pointer} is not a string in the response"))
            .to_owned()
    };
    if let Some(pointer) = expression.strip_prefix("$response.body#") {
        return value(pointer);
    }
    let start = expression
        .find("{$response.body#")
        .expect("an embedded expression");
    let end = start + expression[start..].find('}').expect("a closed expression");
    let pointer = &expression[start + "{$response.body#".len()..end];
    format!(
        "{}{}{}",
        &expression[..start],
        value(pointer),
        &expression[end + 1..]
    )
}

api_test!(
    async fn the_login_body_is_one_of_email_or_username(server: &TestServer) {
        let doc: Value = server.get("/openapi.json").await.json();
        let body = &doc["paths"]["/auth/login"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        let login = resolve(&doc, body);
        let variants = login["oneOf"].as_array().expect("a oneOf");
        let mut identifiers: Vec<&str> = Vec::new();
        for variant in variants {
            let variant = resolve(&doc, variant);
            let required: Vec<&str> = variant["required"]
                .as_array()
                .expect("required fields")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert!(required.contains(&"password"), "{variant}");
            let identifier = *required
                .iter()
                .find(|f| ["email", "username"].contains(f))
                .expect("an identifier");
            let other = if identifier == "email" {
                "username"
            } else {
                "email"
            };
            assert!(variant["properties"].get(other).is_none(), "{variant}");
            identifiers.push(identifier);
        }
        identifiers.sort_unstable();
        assert_eq!(identifiers, ["email", "username"]);
        // What the schema refuses, the service refuses.
        let both = json!({"email": "a@example.com", "username": "ann", "password": "pw"});
        assert_error(
            &server.post_json("/auth/login", &both).await,
            400,
            "VALIDATION_ERROR",
        );
    }
);

api_test!(
    async fn every_token_response_links_to_refresh_logout_and_me(server: &TestServer) {
        let doc: Value = server.get("/openapi.json").await.json();
        let operation_ids: Vec<&str> = doc["paths"]
            .as_object()
            .expect("paths")
            .values()
            .filter_map(Value::as_object)
            .flat_map(|item| item.values())
            .filter_map(|op| op["operationId"].as_str())
            .collect();
        for (path, status) in TOKEN_ANSWERS {
            let links = &doc["paths"][path]["post"]["responses"][status]["links"];
            for (name, target) in [("Refresh", "refresh"), ("Logout", "logout"), ("Me", "me")] {
                assert_eq!(links[name]["operationId"], target, "{path} {name}: {links}");
                assert!(operation_ids.contains(&target), "no operation {target}");
            }
        }
    }
);

api_test!(
    async fn the_links_of_a_login_lead_to_me_refresh_and_logout(server: &TestServer) {
        let doc: Value = server.get("/openapi.json").await.json();
        let links = &doc["paths"]["/auth/login"]["post"]["responses"]["200"]["links"];
        let user = TestUser::unique("links");
        user.register(server).await;
        let login = server
            .post_json(
                "/auth/login",
                &json!({"username": user.username, "password": user.password}),
            )
            .await;
        login.expect_status(200);
        let answer: Value = login.json();

        let authorization = evaluate(
            links["Me"]["parameters"]["header.Authorization"]
                .as_str()
                .expect("a header parameter"),
            &answer,
        );
        let me = server
            .send(
                server
                    .client()
                    .get(server.url("/auth/me"))
                    .header("authorization", authorization),
            )
            .await;
        me.expect_status(200);

        let refresh_body = |link: &Value| {
            let token = link["requestBody"]["refresh_token"]
                .as_str()
                .expect("a refresh_token expression");
            json!({"refresh_token": evaluate(token, &answer)})
        };
        let refreshed = server
            .post_json("/auth/refresh", &refresh_body(&links["Refresh"]))
            .await;
        refreshed.expect_status(200);
        // The refresh link's token is now rotated; the logout link of the new answer works.
        let refresh_links = &doc["paths"]["/auth/refresh"]["post"]["responses"]["200"]["links"];
        let next: Value = refreshed.json();
        let token = refresh_links["Logout"]["requestBody"]["refresh_token"]
            .as_str()
            .expect("an expression");
        let logout = server
            .post_json(
                "/auth/logout",
                &json!({"refresh_token": evaluate(token, &next)}),
            )
            .await;
        logout.expect_status(204);
    }
);
