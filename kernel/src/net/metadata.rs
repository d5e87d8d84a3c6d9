//! The cloud metadata service: where the runtime config comes from when the kernel
//! got none on its command line nor on a config drive, as EC2 and OpenStack give each
//! instance its user-data. The first card is brought up by DHCP and the user-data is
//! fetched with one HTTP/1.0 GET from `169.254.169.254`: OpenStack's
//! `/openstack/latest/user_data`, else EC2's `/latest/user-data`. A body that is a
//! JSON object is the config; anything else (cloud-config, a 404, no answer) is passed
//! over. The address stays configured (the config's own `net` blocks are applied
//! after it, as usual); /etc/resolv.conf is written once the file systems exist
//! ([`super::write_resolv_conf`], from main).

use super::{wait, with};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;
use rumprun_net::{Family, SockAddr, SockType};

/// The link-local address every cloud serves its metadata on.
pub const SERVER: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);
/// How the URLs this module reads begin (the config's source names one).
pub const URL_PREFIX: &str = "http://169.254.169.254/";
/// The user-data paths, in the order they are tried.
pub const PATHS: [&str; 2] = ["/openstack/latest/user_data", "/latest/user-data"];
/// How long one request may take (connect, send, the whole answer).
const REQUEST_NS: u64 = 5_000_000_000;
/// A user-data bigger than this is refused.
const MAX_BODY: usize = 1 << 20;

/// A config found on the metadata service: its URL and text.
pub struct Found {
    pub source: String,
    pub text: String,
}

/// Brings up `eth0` by DHCP and asks the metadata service. `Ok(None)`: no card, no
/// lease, no service or no JSON user-data (each passed over is noted in `skipped`);
/// `Err`: a JSON-looking user-data that is not UTF-8 or too big (one line).
pub fn fetch(skipped: &mut Vec<String>) -> Result<Option<Found>, String> {
    if crate::drivers::netdev::all().is_empty() {
        return Ok(None);
    }
    let dhcp = rumprun_config::Net {
        iface: String::from("eth0"),
        family: String::from("inet"),
        method: String::from("dhcp"),
        addr: None,
        mask: None,
        gw: None,
    };
    if let Err(why) = super::configure_before_fs(&[dhcp], false) {
        skipped.push(format!("metadata service: {why}"));
        return Ok(None);
    }
    for path in PATHS {
        let url = format!("http://{SERVER}{path}");
        let (status, body) = match get(path) {
            Ok(answer) => answer,
            Err(why) => {
                skipped.push(format!("{url}: {why}"));
                // No service at all: the other path will not answer either.
                if why.starts_with("connect") {
                    return Ok(None);
                }
                continue;
            }
        };
        if status != 200 {
            skipped.push(format!("{url}: HTTP status {status}"));
            continue;
        }
        if body.len() > MAX_BODY {
            return Err(format!("{url}: {} bytes, more than {MAX_BODY}", body.len()));
        }
        let is_json = body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'{');
        if !is_json {
            skipped.push(format!("{url}: not a JSON config"));
            continue;
        }
        let text = String::from_utf8(body).map_err(|_| format!("{url}: not UTF-8 text"))?;
        return Ok(Some(Found { source: url, text }));
    }
    Ok(None)
}

/// One `GET path` to [`SERVER`]: the status code and the body.
fn get(path: &str) -> Result<(u16, Vec<u8>), String> {
    let deadline = crate::time::monotonic_ns() + REQUEST_NS;
    let id = with(|s| s.socket(Family::Inet, SockType::Stream))
        .map_err(|e| format!("socket: {}", e.name()))?;
    let result = exchange(id, path, deadline);
    let _ = with(|s| s.close(id));
    result
}

fn exchange(
    id: rumprun_net::SocketId,
    path: &str,
    deadline: u64,
) -> Result<(u16, Vec<u8>), String> {
    let timed_out = || crate::time::monotonic_ns() >= deadline;
    let addr = SockAddr::V4 {
        addr: SERVER,
        port: 80,
    };
    match with(|s| s.connect(id, addr)) {
        Ok(()) => {}
        Err(e) if e == rumprun_net::Errno::EINPROGRESS => loop {
            match with(|s| s.connect_result(id)) {
                Some(Ok(())) => break,
                Some(Err(e)) => return Err(format!("connect: {}", e.name())),
                None if timed_out() => return Err(String::from("connect: timed out")),
                None => {
                    wait(Some(deadline));
                }
            }
        },
        Err(e) => return Err(format!("connect: {}", e.name())),
    }
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {SERVER}\r\nUser-Agent: rumprun\r\nAccept: */*\r\n\r\n"
    );
    let mut sent = 0;
    while sent < request.len() {
        match with(|s| s.send(id, &request.as_bytes()[sent..], None)) {
            Ok(n) => sent += n,
            Err(e) if e == rumprun_net::Errno::EAGAIN && !timed_out() => {
                wait(Some(deadline));
            }
            Err(e) => return Err(format!("send: {}", e.name())),
        }
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        match with(|s| s.recv(id, &mut buf, 0)) {
            Ok(r) if r.len == 0 => break,
            Ok(r) => {
                answer.extend_from_slice(&buf[..r.len]);
                if answer.len() > MAX_BODY + 8192 {
                    break;
                }
            }
            Err(e) if e == rumprun_net::Errno::EAGAIN && !timed_out() => {
                wait(Some(deadline));
            }
            Err(e) if e == rumprun_net::Errno::EAGAIN => {
                return Err(String::from("recv: timed out"))
            }
            Err(e) => return Err(format!("recv: {}", e.name())),
        }
    }
    parse_response(&answer)
}

/// The status code and body of an HTTP/1.x response read to its end.
fn parse_response(answer: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| String::from("no HTTP header in the answer"))?;
    let head = core::str::from_utf8(&answer[..end]).map_err(|_| String::from("bad HTTP header"))?;
    let status_line = head.lines().next().unwrap_or("");
    let mut words = status_line.split(' ');
    let (version, code) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    if !version.starts_with("HTTP/1.") {
        return Err(format!("not an HTTP answer: {status_line}"));
    }
    let code = code
        .parse::<u16>()
        .map_err(|_| format!("bad HTTP status line: {status_line}"))?;
    Ok((code, answer[end + 4..].to_vec()))
}
