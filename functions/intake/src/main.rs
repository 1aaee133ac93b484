//! The intake function: set up once, then serve (see `helpdesk::app::run_http`).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    helpdesk::app::run_http_with_files(false, helpdesk_intake::handle).await
}
