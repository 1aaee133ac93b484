//! Which function runs the code at hand, locally: each local stand-in for Lambda (the gateway,
//! local mail, the stream consumers, the asynchronous invokes) runs a handler in the scope of
//! its function's name. A leaf that every one of them imports.

tokio::task_local! {
    /// The function serving the current request, for tests that watch what each one calls.
    pub static FUNCTION: &'static str;
}
