//! The served stub at its connection cap, under the attacks that turned the cap against
//! legitimate clients: a flood of connections that send nothing, requests trickled in, slow
//! bodies. The policy (docs/guide.md): at the cap a connection that sent nothing goes first,
//! then a request arriving under the rate floor (500 bytes/s after 1 s), then one idle after an
//! answer for 1 s or more; a request being handled, or arriving at the floor, is never cut.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::served::{read_answer as answer, spawn, stop};

/// A stub with `cap` connections and a minute's idle timeout (so that nothing makes room by
/// timing out during a test).
fn stub_at_cap(cap: &str) -> (std::process::Child, String) {
    let args = [
        "stub",
        "--listen",
        "127.0.0.1:0",
        "--serve-for",
        "60",
        "--silent",
        "--max-connections",
        cap,
        "--idle-timeout",
        "60",
    ]
    .map(std::ffi::OsStr::new);
    spawn(&args)
}

/// A request of the operation, with a body length (`None`: none).
fn request(host: &str, body: Option<usize>) -> String {
    let length = body.unwrap_or(0);
    format!(
        "PUT /v1.0/6204a5bd270343b5885144cf9c8c158d/clusters/ea244205-d641-45d9-9dcb-ab2236bcd07e/upgrade/00000000-5e57-4000-8000-000000000000/retry HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: {}\r\nContent-Length: {length}\r\n\r\n",
        css_conformance::servers::stub::STUB_TOKEN
    )
}

/// Opens `per_second` connections that send nothing until `stop` is set, keeping the last
/// hundred open (older ones the stub has evicted long since).
fn flood(host: String, per_second: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut open = std::collections::VecDeque::new();
        let mut opened = 0;
        let gap = Duration::from_secs(1) / per_second;
        let started = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            if let Ok(stream) = TcpStream::connect_timeout(
                &host.parse().expect("an address"),
                Duration::from_millis(200),
            ) {
                open.push_back(stream);
                if open.len() > 100 {
                    open.pop_front();
                }
                opened += 1;
            }
            let due = started + gap * u32::try_from(opened).unwrap_or(u32::MAX);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        opened
    })
}

#[test]
fn a_flood_of_connections_that_send_nothing_cuts_no_request_trickled_in_and_no_kept_connection() {
    let (child, host) = stub_at_cap("8");
    let stop_flood = Arc::new(AtomicBool::new(false));
    let flooding = flood(host.clone(), 200, Arc::clone(&stop_flood));
    std::thread::sleep(Duration::from_millis(300));
    // Requests sent slowly: the head in four pieces, 100 ms apart.
    let slow = std::thread::spawn({
        let host = host.clone();
        move || {
            let mut answered = 0;
            for _ in 0..6 {
                let mut stream = TcpStream::connect(&host).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let request = request(&host, None);
                let pieces = request.as_bytes().chunks(request.len() / 4 + 1);
                let mut sent = true;
                for piece in pieces {
                    sent &= stream.write_all(piece).is_ok();
                    std::thread::sleep(Duration::from_millis(100));
                }
                if sent && answer(&mut stream) == Some(400) {
                    answered += 1;
                }
            }
            answered
        }
    });
    // A client keeping its connection: a request every 20 ms on it.
    let mut kept = TcpStream::connect(&host).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut kept_answered = 0;
    for _ in 0..40 {
        if kept.write_all(request(&host, None).as_bytes()).is_ok() && answer(&mut kept) == Some(400)
        {
            kept_answered += 1;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let slow_answered = slow.join().unwrap();
    stop_flood.store(true, Ordering::Relaxed);
    let opened = flooding.join().unwrap();
    let _ = stop(child, libc::SIGTERM);
    assert!(opened > 200, "the flood opened only {opened} connections");
    assert_eq!(
        slow_answered, 6,
        "requests trickled in were cut by the flood"
    );
    assert_eq!(
        kept_answered, 40,
        "a kept connection's requests were cut by the flood"
    );
}

#[test]
fn slow_bodies_at_the_cap_are_cut_by_the_rate_floor_to_make_room_for_legitimate_clients() {
    let (child, host) = stub_at_cap("8");
    // Twelve connections that send a head, then a body of 60,000 bytes a byte every 200 ms;
    // each cut one is opened again.
    let stop_slow = Arc::new(AtomicBool::new(false));
    let slow_bodies: Vec<_> = (0..12)
        .map(|_| {
            let host = host.clone();
            let stop_slow = Arc::clone(&stop_slow);
            std::thread::spawn(move || {
                while !stop_slow.load(Ordering::Relaxed) {
                    let Ok(mut stream) = TcpStream::connect(&host) else {
                        continue;
                    };
                    if stream
                        .write_all(request(&host, Some(60_000)).as_bytes())
                        .is_err()
                    {
                        continue;
                    }
                    while !stop_slow.load(Ordering::Relaxed) && stream.write_all(b"x").is_ok() {
                        std::thread::sleep(Duration::from_millis(200));
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    // Each legitimate client is answered well within the body timeout (a minute) the slow
    // bodies would otherwise hold their connections for.
    let mut answered = 0;
    for _ in 0..6 {
        let Ok(mut stream) = TcpStream::connect(&host) else {
            continue;
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        if stream.write_all(request(&host, None).as_bytes()).is_ok()
            && answer(&mut stream) == Some(400)
        {
            answered += 1;
        }
    }
    stop_slow.store(true, Ordering::Relaxed);
    for thread in slow_bodies {
        thread.join().unwrap();
    }
    let _ = stop(child, libc::SIGTERM);
    assert_eq!(
        answered, 6,
        "slow bodies held the cap against legitimate clients"
    );
}

#[test]
fn at_the_cap_connections_that_sent_nothing_go_first_then_a_trickled_head_past_its_grace() {
    // Four connections allowed: without making room, a fifth client waits a minute in the
    // backlog.
    let (child, host) = stub_at_cap("4");
    // Two idle clients and two that trickle a head in (slowloris) hold the four.
    let mut hostile = Vec::new();
    for i in 0..4 {
        let mut stream = TcpStream::connect(&host).unwrap();
        if i % 2 == 1 {
            stream.write_all(b"PUT / HTTP/1.1\r\nX-A: ").unwrap();
        }
        hostile.push(stream);
        std::thread::sleep(Duration::from_millis(20));
    }
    // Each new client is answered well before any of those connections times out; each is
    // kept open after its answer (keep-alive), and idle for 1 s may go too.
    let mut kept = Vec::new();
    let mut answered = 0;
    for _ in 0..6 {
        let Ok(mut client) = TcpStream::connect(&host) else {
            continue;
        };
        client
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        if client.write_all(request(&host, None).as_bytes()).is_ok()
            && answer(&mut client) == Some(400)
        {
            answered += 1;
        }
        kept.push(client);
    }
    let mut closed = 0;
    for stream in &mut hostile {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut byte = [0_u8; 1];
        match stream.read(&mut byte) {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Ok(0) | Err(_) => closed += 1,
            Ok(_) => {}
        }
    }
    drop((hostile, kept));
    let _ = stop(child, libc::SIGTERM);
    assert_eq!(answered, 6, "new clients starved at the connection cap");
    assert_eq!(
        closed, 4,
        "the hostile connections were not the ones let go"
    );
}
