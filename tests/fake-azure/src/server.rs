//! The HTTP side: accepts connections on 127.0.0.1, turns hyper requests into `Incoming`,
//! hands them to `App::dispatch`, and writes the `Reply` back. Runs as a tokio task that
//! stops (with its connections) when the `FakeServer` is dropped.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming as Body;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::dispatch::{App, Incoming};

/// Accepts connections until aborted; aborting drops the `JoinSet`, ending every connection.
pub async fn accept_loop(listener: TcpListener, app: Arc<App>) {
    let mut conns = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let app = app.clone();
        conns.spawn(async move {
            let service = service_fn(move |req| answer(req, app.clone()));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while conns.try_join_next().is_some() {}
    }
}

fn header(req: &Request<Body>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn answer(req: Request<Body>, app: Arc<App>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut incoming = Incoming {
        method: req.method().as_str().to_ascii_uppercase(),
        path: req.uri().path().to_string(),
        query: req.uri().query().unwrap_or_default().to_string(),
        authorization: header(&req, "authorization"),
        if_match: header(&req, "if-match"),
        if_none_match: header(&req, "if-none-match"),
        content_type: header(&req, "content-type"),
        body: Vec::new(),
    };
    incoming.body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    };
    let delay = app.state.latency();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let reply = app.dispatch(&incoming);
    let mut builder = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let body = match &reply.body {
        Some(v) => {
            builder = builder.header("Content-Type", "application/json; charset=utf-8");
            Full::new(Bytes::from(v.to_string()))
        }
        None => Full::new(Bytes::new()),
    };
    Ok(builder.body(body).unwrap_or_else(|_| {
        let mut r = Response::new(Full::new(Bytes::from_static(b"bad reply")));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    }))
}
