//! The soak in little: fuzz cases in chunks against one built-in stub, with memory, file
//! descriptors, threads and tasks sampled; nothing may grow or be left behind. (The full soak,
//! 100,000 cases, is `css-conformance fuzz --soak --cases 100000`, in docs/design.md.)

use css_conformance::engines::fuzz::soak::{self, Sample, Soak};

#[tokio::test]
async fn nothing_grows_and_nothing_is_left_behind() {
    let soak = soak::run(10_000, 10, 1, 16)
        .await
        .expect("this test runs on Linux, where /proc/self tells");
    println!("{}", soak.render());
    assert_eq!(soak.chunks.len(), 10);
    assert_eq!(soak.chunks.last().unwrap().cases, 10_000);
    assert!(soak.problems().is_empty(), "{}", soak.render());
}

#[test]
fn the_soak_check_catches_growth_and_leftovers() {
    let s = |cases, rss_kib, fds, threads, tasks| Sample {
        cases,
        rss_kib,
        fds,
        threads,
        tasks,
    };
    let flat = Soak {
        before: s(0, 10_000, 17, 2, 1),
        chunks: vec![s(1, 14_000, 49, 2, 3), s(2, 14_100, 49, 2, 3)],
        after: s(2, 14_100, 17, 2, 1),
        findings: 0,
        elapsed: std::time::Duration::from_secs(1),
    };
    assert!(flat.problems().is_empty(), "{:?}", flat.problems());
    let leaky = |f: &dyn Fn(&mut Soak)| {
        let mut soak = flat.clone();
        f(&mut soak);
        soak.problems()
    };
    assert_eq!(leaky(&|s| s.chunks[1].rss_kib = 16_000).len(), 1, "memory");
    assert_eq!(leaky(&|s| s.chunks[1].fds = 50).len(), 1, "descriptors");
    assert_eq!(leaky(&|s| s.chunks[1].threads = 3).len(), 1, "threads");
    assert_eq!(leaky(&|s| s.after.fds = 18).len(), 1, "descriptors left");
    assert_eq!(leaky(&|s| s.after.threads = 3).len(), 1, "threads left");
    assert_eq!(leaky(&|s| s.after.tasks = 2).len(), 1, "tasks left");
}
