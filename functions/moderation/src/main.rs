use lambda_http::{run, service_fn, Error};
use std::convert::Infallible;

#[tokio::main]
async fn main() -> Result<(), Error> {
    helpdesk::app::init_tracing();
    let config = helpdesk::Config::from_env()?;
    let app = helpdesk::App::connect(config, false).await;
    run(service_fn(|req| {
        let app = &app;
        async move { Ok::<_, Infallible>(helpdesk_moderation::handle(app, req).await) }
    }))
    .await
}
