//! multipart/form-data as browsers and S3 upload forms send it: for the tests that post files
//! (to a page's reply form, or straight to the bucket with an upload's presigned fields).

use serde_json::Value;

/// A form's body and its content type: the fields, then the file last (as S3 wants it).
pub fn multipart(fields: &[(String, String)], file: (&str, &str, &[u8])) -> (String, Vec<u8>) {
    let boundary = format!("b{}", ulid::Ulid::new());
    let mut body = vec![];
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    let (name, content_type, bytes) = file;
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n"
    );
    body.extend(head.as_bytes());
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Posts `body` as a form to `url` without following redirects: (status, Location).
pub async fn post(url: &str, cookies: &str, (content_type, body): (String, Vec<u8>)) -> (u16, Option<String>) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = client.post(url).header("cookie", cookies).header("content-type", content_type).body(body).send().await;
    let res = res.expect("the server answers");
    (res.status().as_u16(), res.headers().get("location").map(|l| l.to_str().unwrap_or_default().to_string()))
}

/// Sends a file with an upload's form (`POST /requests/{key}/attachments`'s answer) straight
/// to the bucket, its fields first changed by `change`; S3's answer must be a success.
pub async fn send_upload(
    granted: &Value,
    change: impl FnOnce(Vec<(String, String)>) -> Vec<(String, String)>,
    file: (&str, &str, &[u8]),
) {
    let fields: Vec<(String, String)> = granted["fields"]
        .as_object()
        .expect("an upload's fields")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let (status, _) =
        post(granted["url"].as_str().expect("an upload's URL"), "", multipart(&change(fields), file)).await;
    assert!((200..300).contains(&status), "the bucket refused the upload: {status}");
}
