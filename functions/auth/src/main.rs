//! The auth function: set up once, then serve (see `helpdesk::app::run_http`).

// One event at a time per environment: one thread, no worker pool to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    helpdesk::app::run_http(true, helpdesk_auth::handle).await
}
