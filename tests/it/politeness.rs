//! Politeness toward a live target: the rate limit holds, 429 is waited out as `Retry-After`
//! says, network errors and 5xx are retried a bounded number of times (never for a request
//! naming a real task), and a request refused with 400 or 403 is never sent again unchanged.
//! Each test runs a small server that records what reached it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};

use css_conformance::contract::features;
use css_conformance::contract::request::{Credentials, Request};
use css_conformance::contract::spec::Spec;
use css_conformance::engines::fuzz;
use css_conformance::engines::fuzz::strategy::UNKNOWN_UUID;
use css_conformance::engines::scenarios::run_state::RunState;
use css_conformance::engines::scenarios::runner::{self, ScenarioOptions};
use css_conformance::fixtures::Fixtures;
use css_conformance::secret::Secret;
use css_conformance::transport::target::{Auth, Politeness, Target, Unanswered};

/// What reached the server: when, and the request line with its token.
type Arrivals = Arc<Mutex<Vec<(Instant, String)>>>;

/// A server that answers each request with `answer(n)`, n counting from 0.
async fn recording_server(
    answer: impl Fn(usize) -> HttpMockResponse + Send + Sync + 'static,
) -> (MockServer, Arrivals) {
    let arrivals: Arrivals = Arc::default();
    let seen = Arc::clone(&arrivals);
    let server = MockServer::start_async().await;
    server
        .mock_async(move |_when, then| {
            then.respond_with(move |req: &HttpMockRequest| {
                let token = req
                    .headers()
                    .get("x-auth-token")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                // What else makes a request another one: a method-override header, `Expect`,
                // a body, the HTTP version.
                let header = |name: &str| {
                    req.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                };
                let overrides =
                    format!("{} {}", header("x-http-method-override"), header("expect"));
                let body = String::from_utf8_lossy(req.body_ref()).into_owned();
                let mut seen = seen.lock().unwrap();
                let n = seen.len();
                seen.push((
                    Instant::now(),
                    format!(
                        "{} {} {token} {overrides} {body} {:?}",
                        req.method(),
                        req.uri_str(),
                        req.version()
                    ),
                ));
                answer(n)
            });
        })
        .await;
    (server, arrivals)
}

fn status(code: u16) -> HttpMockResponse {
    HttpMockResponse::builder().status(code).build()
}

fn error(code: u16) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(r#"{"error_code":"CSS.0015","error_msg":"No permission"}"#)
        .build()
}

fn live(server: &MockServer, politeness: Politeness) -> Target {
    Target::new(
        "test server",
        &server.base_url(),
        Auth::Token(Secret::new("test-token")),
        Fixtures::builtin(),
    )
    .unwrap()
    .with_politeness(politeness)
}

fn unknown_task() -> Request {
    let f = Fixtures::builtin();
    Request {
        project_id: f.project_id,
        cluster_id: f.cluster_id,
        action_id: UNKNOWN_UUID.to_owned(),
        retry_mode: Vec::new(),
        extra_query: Vec::new(),
        credentials: Credentials::Valid,
        method: None,
        shape: css_conformance::contract::request::Shape::default(),
    }
}

fn fast_retries(retries: u32) -> Politeness {
    Politeness {
        max_requests_per_second: None,
        retries,
        backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(5),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rate_limit_holds_within_ten_percent_with_requests_in_flight_together() {
    let spec = Arc::new(Spec::embedded());
    let (server, arrivals) = recording_server(|_| status(200)).await;
    let rate = 20.0;
    let target = Arc::new(live(
        &server,
        Politeness {
            max_requests_per_second: Some(rate),
            ..fast_retries(0)
        },
    ));
    // 41 requests, 8 at a time: only the limiter keeps them apart.
    let requests = (0..41).map(|i| {
        let (spec, target) = (Arc::clone(&spec), Arc::clone(&target));
        let mut r = unknown_task();
        r.retry_mode = vec![format!("x{i}")];
        async move { target.send(&spec, &r).await.unwrap() }
    });
    futures::stream::iter(requests)
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let times: Vec<Instant> = arrivals.lock().unwrap().iter().map(|a| a.0).collect();
    assert_eq!(times.len(), 41);
    let span = times
        .iter()
        .max()
        .unwrap()
        .duration_since(*times.iter().min().unwrap());
    let measured = 40.0 / span.as_secs_f64();
    assert!(
        (rate * 0.9..=rate * 1.1).contains(&measured),
        "{measured:.2} requests/s against a limit of {rate}"
    );
}

use futures::StreamExt as _;

#[tokio::test(flavor = "multi_thread")]
async fn a_429_is_waited_out_as_retry_after_says() {
    let spec = Spec::embedded();
    let (server, arrivals) = recording_server(|n| match n {
        0 => HttpMockResponse::builder()
            .status(429)
            .header("retry-after", "1")
            .build(),
        _ => error(403),
    })
    .await;
    let target = live(&server, fast_retries(0));
    let answer = target.send(&spec, &unknown_task()).await.unwrap();
    assert_eq!(
        answer.status, 403,
        "the answer after the wait is the one judged"
    );
    let times: Vec<Instant> = arrivals.lock().unwrap().iter().map(|a| a.0).collect();
    assert_eq!(times.len(), 2);
    let waited = times[1].duration_since(times[0]);
    assert!(
        waited >= Duration::from_millis(950),
        "waited only {waited:?}"
    );
    assert_eq!(target.traffic().throttled, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_without_retry_after_backs_off_and_a_long_one_gives_up() {
    let spec = Spec::embedded();
    let (server, arrivals) = recording_server(|n| match n {
        0 | 1 => status(429),
        _ => error(400),
    })
    .await;
    let target = live(&server, fast_retries(0));
    assert_eq!(
        target.send(&spec, &unknown_task()).await.unwrap().status,
        400
    );
    let times: Vec<Instant> = arrivals.lock().unwrap().iter().map(|a| a.0).collect();
    assert_eq!(times.len(), 3);
    assert!(times[1].duration_since(times[0]) >= Duration::from_millis(20));
    assert!(times[2].duration_since(times[1]) >= Duration::from_millis(40));

    // A Retry-After beyond the longest wait allowed: a transport fault, not an answer.
    let (server, arrivals) = recording_server(|_| {
        HttpMockResponse::builder()
            .status(429)
            .header("retry-after", "3600")
            .build()
    })
    .await;
    let target = live(&server, fast_retries(0));
    let err = target.send(&spec, &unknown_task()).await.unwrap_err();
    assert!(err.message.contains("throttled"), "{err}");
    assert_eq!(arrivals.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_5xx_is_retried_a_bounded_number_of_times_but_not_for_a_real_task() {
    let spec = Spec::embedded();
    let (server, arrivals) = recording_server(|_| status(500)).await;
    let target = live(&server, fast_retries(2));
    assert_eq!(
        target.send(&spec, &unknown_task()).await.unwrap().status,
        500
    );
    assert_eq!(arrivals.lock().unwrap().len(), 3, "one try and two retries");
    let traffic = target.traffic();
    assert_eq!(traffic.retried, 2);
    assert!(traffic.first_retry.unwrap().contains("500"));

    // A retry of a real failed task may have been acted on: it is not sent twice.
    let mut real = unknown_task();
    real.action_id = Fixtures::builtin().failed_action_ids[0].clone();
    assert_eq!(target.send(&spec, &real).await.unwrap().status, 500);
    assert_eq!(arrivals.lock().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateways_503_is_waited_out_and_one_that_stays_makes_the_target_unavailable() {
    let spec = Spec::embedded();
    let (server, arrivals) = recording_server(|_| status(503)).await;
    let target = live(&server, fast_retries(2));
    // A retry of a real failed task that meets a 503 may have acted: not sent again, and
    // without the read API its answer is lost (its task counted as used).
    let mut real = unknown_task();
    real.action_id = Fixtures::builtin().failed_action_ids[0].clone();
    let err = target.send(&spec, &real).await.unwrap_err();
    assert!(err.is_lost(), "{err}");
    assert_eq!(arrivals.lock().unwrap().len(), 1);
    // A request a conforming server refuses is sent again after each 503, three times; then
    // a request naming nothing is answered 503 too: the target is unavailable.
    let err = target.send(&spec, &unknown_task()).await.unwrap_err();
    assert_eq!(err.kind, Unanswered::Unavailable, "{err}");
    assert_eq!(arrivals.lock().unwrap().len(), 1 + 4 + 4);
    let traffic = target.traffic();
    assert_eq!(
        (traffic.transient, traffic.lost, traffic.retried),
        (6, 1, 0)
    );
    assert!(traffic.unavailable.is_some());
    // Nothing more goes out.
    assert!(target.send(&spec, &unknown_task()).await.is_err());
    assert_eq!(arrivals.lock().unwrap().len(), 9);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_is_retried_then_reported() {
    let spec = Spec::embedded();
    // A port that was free a moment ago and has no listener now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = Target::new(
        "nobody",
        &format!("http://127.0.0.1:{port}"),
        Auth::None,
        Fixtures::builtin(),
    )
    .unwrap()
    .with_politeness(fast_retries(2));
    let err = target.send(&spec, &unknown_task()).await.unwrap_err();
    assert!(err.message.to_lowercase().contains("connect"), "{err}");
    assert_eq!(target.traffic().retried, 2);
    assert_eq!(target.traffic().sent, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_refused_with_400_or_403_is_never_sent_again_unchanged() {
    let spec = Arc::new(Spec::embedded());
    let (server, arrivals) = recording_server(|n| error(if n % 2 == 0 { 400 } else { 403 })).await;
    let target = live(&server, fast_retries(2));
    for _ in 0..3 {
        target.send(&spec, &unknown_task()).await.unwrap();
    }
    assert_eq!(arrivals.lock().unwrap().len(), 1);
    assert_eq!(target.traffic().not_resent, 2);

    // The whole feature set and a fuzz run (whose shrinking re-judges failing cases) against
    // a server that refuses everything: no request reaches it twice, but for the three
    // repeats of each finding's minimal case, sent on purpose to see whether it reproduces.
    let run_state = Arc::new(RunState::new(Arc::clone(&spec), target));
    let options = ScenarioOptions {
        concurrency: 4,
        ..ScenarioOptions::default()
    };
    runner::run(Arc::clone(&run_state), features::embedded(), &options)
        .await
        .unwrap();
    let summary = fuzz::run(
        &spec,
        &run_state.target,
        &fuzz::FuzzOptions {
            cases: 200,
            seed: 3,
            mutations: false,
            ..fuzz::FuzzOptions::default()
        },
    )
    .await
    .expect("the cases are made");
    assert!(
        !summary.findings.is_empty(),
        "refusing everything violates clauses"
    );
    let seen = arrivals.lock().unwrap();
    let mut times: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (_, line) in seen.iter() {
        *times.entry(line.as_str()).or_default() += 1;
    }
    let sent = seen.len();
    assert!(sent > 100, "the run reached the server: {sent}");
    // Each finding's minimal case went out once, then three times again; clauses with the
    // same minimal case share its repeats.
    let minimal: std::collections::BTreeSet<String> = summary
        .findings
        .iter()
        .map(|f| format!("PUT {} ", f.url))
        .collect();
    let mut again = 0;
    for (line, n) in &times {
        if minimal.iter().any(|m| line.starts_with(m.as_str())) {
            assert!(*n == 1 || *n == 4, "{line}: {n} times");
            again += n - 1;
        } else {
            assert_eq!(*n, 1, "{line}: sent more than once");
        }
    }
    assert!(again >= 3, "the findings were repeated");
    assert_eq!(summary.repeated, again as u64);
    for f in &summary.findings {
        assert!(
            matches!(f.reproduction, fuzz::Reproduction::Repeated { of: 3, .. }),
            "{:?}",
            f.reproduction
        );
    }
}
