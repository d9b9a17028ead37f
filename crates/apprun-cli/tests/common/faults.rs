//! A fault-injecting HTTP proxy for moto_server: it sits on a free loopback
//! port in front of moto, names every request by its API action, and, by a
//! script of rules per test, answers with an error BEFORE the request
//! reaches moto (HTTP 500/503, CloudFormation's `Throttling` error in its
//! query-XML wire format, a reset connection), or forwards it and then
//! loses the answer AFTER moto applied it (a reset instead of the answer,
//! or HTTP 500), or adds latency. Every request is logged with its arrival
//! time, so a test can count the writes that reached the endpoint and tell
//! which came after a signal.
//!
//! Plain threads and blocking sockets, one request per connection (each
//! answer says `Connection: close`): the SDK reconnects for the next call.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a rule does to a matching request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answers this HTTP status (500, 503) without calling moto.
    Status(u16),
    /// Answers CloudFormation's `Throttling` error (HTTP 400, query XML).
    Throttle,
    /// Resets the connection without calling moto.
    Reset,
    /// Calls moto, then resets the connection: the call took effect, its
    /// answer is lost.
    DropAfter,
    /// Calls moto, then answers HTTP 500 although moto applied the call.
    ServerErrorAfter,
    /// Waits this long, then calls moto.
    Delay(Duration),
}

/// Which requests a rule applies to, and how many times.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The API action (`CreateStack`, `DescribeStacks`, ...; S3 requests
    /// are `S3:<METHOD>`).
    pub action: String,
    /// Only requests for this stack (`StackName=`), when set.
    pub stack: Option<String>,
    /// Matching requests let through before the rule fires.
    pub skip: usize,
    /// How many matching requests it fires for.
    pub times: usize,
    pub fault: Fault,
}

impl Rule {
    /// A rule for the first `times` requests of `action`.
    pub fn new(action: &str, times: usize, fault: Fault) -> Rule {
        Rule {
            action: action.to_owned(),
            stack: None,
            skip: 0,
            times,
            fault,
        }
    }

    pub fn for_stack(mut self, stack: &str) -> Rule {
        self.stack = Some(stack.to_owned());
        self
    }

    pub fn after(mut self, skip: usize) -> Rule {
        self.skip = skip;
        self
    }
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub action: String,
    pub stack: Option<String>,
    /// When it arrived (before any delay).
    pub at: Instant,
    /// The fault applied, if any.
    pub fault: Option<String>,
}

impl Seen {
    /// Whether the request can change anything in the account.
    pub fn is_write(&self) -> bool {
        match self.action.strip_prefix("S3:") {
            Some(method) => !matches!(method, "GET" | "HEAD"),
            None => ![
                "Describe", "Get", "List", "Validate", "Estimate", "BatchGet",
            ]
            .iter()
            .any(|p| self.action.starts_with(p)),
        }
    }
}

#[derive(Default)]
struct State {
    rules: Vec<(Rule, usize)>,
    log: Vec<Seen>,
}

/// The proxy; stopped when dropped.
pub struct FaultProxy {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`
    /// (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> FaultProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy binds");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (st, upstream) = (st.clone(), upstream.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &upstream, &st);
                });
            }
        });
        FaultProxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            state,
            stop,
            port,
        }
    }

    /// Replaces the script. For each request the rules are tried in order:
    /// a matching rule counts the request and fires while within its
    /// `skip`/`times` window; the first that fires decides, later rules do
    /// not see that request.
    pub fn script(&self, rules: Vec<Rule>) {
        self.state.lock().unwrap().rules = rules.into_iter().map(|r| (r, 0)).collect();
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Seen> {
        self.state.lock().unwrap().log.clone()
    }

    /// Forgets the log (between the runs of a test).
    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }

    /// The writes logged so far, as `Action` or `Action stack`.
    pub fn writes(&self) -> Vec<String> {
        self.log()
            .iter()
            .filter(|s| s.is_write())
            .map(|s| match &s.stack {
                Some(stack) => format!("{} {stack}", s.action),
                None => s.action.clone(),
            })
            .collect()
    }

    /// Waits until a request of `action` (for `stack`, when given) has
    /// arrived; panics after `within`.
    pub fn wait_for(&self, action: &str, stack: Option<&str>, within: Duration) -> Instant {
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = self
                .log()
                .into_iter()
                .find(|s| s.action == action && (stack.is_none() || s.stack.as_deref() == stack))
            {
                return s.at;
            }
            assert!(
                Instant::now() < deadline,
                "no {action} {stack:?} reached the proxy: {:?}",
                self.log()
                    .iter()
                    .map(|s| s.action.clone())
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A request read off the wire: its raw bytes and what it is.
struct Request {
    head: Vec<String>,
    body: Vec<u8>,
    action: String,
    stack: Option<String>,
}

fn serve(mut client: TcpStream, upstream: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let request = read_request(&mut client)?;
    let fault = {
        let mut st = state.lock().unwrap();
        let fault = st.rules.iter_mut().find_map(|(rule, seen)| {
            let matches = rule.action == request.action
                && (rule.stack.is_none() || rule.stack == request.stack);
            if !matches {
                return None;
            }
            *seen += 1;
            (*seen > rule.skip && *seen <= rule.skip + rule.times).then(|| rule.fault.clone())
        });
        st.log.push(Seen {
            action: request.action.clone(),
            stack: request.stack.clone(),
            at: Instant::now(),
            fault: fault.as_ref().map(|f| format!("{f:?}")),
        });
        fault
    };
    match fault {
        Some(Fault::Status(code)) => respond(&mut client, code, "text/plain", "injected failure"),
        Some(Fault::Throttle) => respond(&mut client, 400, "text/xml", THROTTLING),
        Some(Fault::Reset) => {
            reset(client);
            Ok(())
        }
        Some(Fault::DropAfter) => {
            forward(&request, upstream)?;
            reset(client);
            Ok(())
        }
        Some(Fault::ServerErrorAfter) => {
            forward(&request, upstream)?;
            respond(
                &mut client,
                500,
                "text/plain",
                "injected failure after the call",
            )
        }
        Some(Fault::Delay(d)) => {
            std::thread::sleep(d);
            let answer = forward(&request, upstream)?;
            client.write_all(&answer)
        }
        None => {
            let answer = forward(&request, upstream)?;
            client.write_all(&answer)
        }
    }
}

/// CloudFormation's throttling error, as its query protocol sends it.
const THROTTLING: &str = r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <Error>
    <Type>Sender</Type>
    <Code>Throttling</Code>
    <Message>Rate exceeded</Message>
  </Error>
  <RequestId>7f1f0c2e-0000-4000-8000-000000000000</RequestId>
</ErrorResponse>
"#;

fn respond(
    client: &mut TcpStream,
    code: u16,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let reason = match code {
        400 => "Bad Request",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    write!(
        client,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    client.flush()
}

/// Closes the connection with a TCP reset (SO_LINGER 0), as a crashed
/// load balancer would.
fn reset(client: TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized linger struct.
    unsafe {
        libc::setsockopt(
            client.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(client);
}

fn read_request(client: &mut TcpStream) -> std::io::Result<Request> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let header = |name: &str| {
        head.iter().skip(1).find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let mut body = Vec::new();
    if header("Transfer-Encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        // Kept chunked as it came; the terminating chunk ends it.
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line)?;
            body.extend_from_slice(size_line.as_bytes());
            let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            if size == 0 {
                break;
            }
        }
    } else if let Some(n) = header("Content-Length").and_then(|n| n.parse::<usize>().ok()) {
        body.resize(n, 0);
        reader.read_exact(&mut body)?;
    }
    let request_line = head.first().cloned().unwrap_or_default();
    let method = request_line
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_owned();
    let form = String::from_utf8_lossy(&body).into_owned();
    let field = |key: &str| {
        form.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == key).then(|| percent_decode(v))
        })
    };
    let (action, stack) = if let Some(action) = field("Action") {
        (action, field("StackName"))
    } else if let Some(target) = header("X-Amz-Target") {
        let action = target.rsplit('.').next().unwrap_or_default().to_owned();
        (action, None)
    } else {
        (format!("S3:{method}"), None)
    };
    Ok(Request {
        head,
        body,
        action,
        stack,
    })
}

fn percent_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends the request to moto on a fresh connection and returns its whole
/// answer, marked `Connection: close`.
fn forward(request: &Request, upstream: &str) -> std::io::Result<Vec<u8>> {
    let mut moto = TcpStream::connect(upstream)?;
    let mut head = String::new();
    for (i, line) in request.head.iter().enumerate() {
        let is_connection = line
            .split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("connection"));
        if i > 0 && is_connection {
            continue;
        }
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    moto.write_all(head.as_bytes())?;
    moto.write_all(&request.body)?;
    moto.flush()?;
    let mut answer = Vec::new();
    moto.read_to_end(&mut answer)?;
    let _ = moto.shutdown(Shutdown::Both);
    Ok(close_marked(answer))
}

/// The answer with its `Connection` header replaced by `Connection: close`.
fn close_marked(answer: Vec<u8>) -> Vec<u8> {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return answer;
    };
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    let mut out = String::new();
    for line in head.split("\r\n") {
        let is_connection = line
            .split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("connection"));
        if !is_connection {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&answer[end + 4..]);
    bytes
}

/// `apprun ARGS` in `dir` against `endpoint` with test credentials, fast
/// polling and quick retries, ready to run or spawn.
pub fn apprun_at(endpoint: &str, dir: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_apprun"));
    c.args(args)
        .args(["--endpoint-url", endpoint])
        .current_dir(dir)
        .env_remove("APPRUN_CONFIG")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env("NO_COLOR", "1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("APPRUN_POLL_MS", "100")
        .stdin(std::process::Stdio::null());
    c
}
