//! Running the simulator: [`serve`] on a listener inside a caller's runtime, or
//! [`spawn`] on a background thread with its own runtime, returning a [`SimHandle`].
//!
//! This module owns lifetimes (binding, readiness, shutdown); it does not know about
//! routes or state beyond handing them to `routes::router`.

use std::future::{Future, IntoFuture};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::routes::router;
use crate::state::{AgentState, JournalEntry, SharedState, SimConfig};

/// How long open connections may take to finish after shutdown is requested. Idle
/// keep-alive connections close at once; this only bounds a client that stalls
/// mid-request, so that dropping a [`SimHandle`] cannot hang a test run.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// Serves the simulator on `listener` until `shutdown` resolves, then lets open
/// requests finish (for at most a few seconds) and returns.
pub async fn serve<F>(listener: TcpListener, state: SharedState, shutdown: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let (draining_tx, draining_rx) = oneshot::channel::<()>();
    let graceful = axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = draining_tx.send(());
        })
        .into_future();
    let drain_limit = async move {
        match draining_rx.await {
            Ok(()) => tokio::time::sleep(DRAIN_LIMIT).await,
            // The server ended on its own, so `graceful` is ready and wins the race.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        result = graceful => result,
        () = drain_limit => Ok(()),
    }
}

/// A running simulator on its own background thread with its own tokio runtime,
/// so that synchronous tests and async code alike can use it.
///
/// Dropping the handle stops the simulator too, like [`SimHandle::shutdown`]; both
/// block until the thread has finished.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    state: SharedState,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl SimHandle {
    /// The base URL, `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request so far, in arrival order (health and `/_sim` requests excluded).
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.state.journal()
    }

    /// The journal filtered to writes (everything but `GET` and `HEAD`).
    pub fn writes(&self) -> Vec<JournalEntry> {
        self.state.writes()
    }

    /// The agents' current state, sorted by id.
    pub fn agents(&self) -> Vec<AgentState> {
        self.state.agents()
    }

    /// Sets an agent's direction and numbers directly, as another client's PUT would,
    /// without validation or a journal entry. Returns false if there is no such agent.
    /// See [`SharedState::set_calling`].
    pub fn set_calling(&self, agent_id: &str, direction: &str, phone_number_ids: &[&str]) -> bool {
        self.state
            .set_calling(agent_id, direction, phone_number_ids)
    }

    /// The shared state the simulator serves, for callers that want more than the
    /// accessors above.
    pub fn state(&self) -> &SharedState {
        &self.state
    }

    /// Stops serving gracefully and joins the thread.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread has already been reported on stderr; the
            // handle's owner is shutting down and has nothing better to do with it.
            let _ = thread.join();
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Binds `127.0.0.1:port` (0 picks a free port), starts serving on a background
/// thread and returns once the listener is bound, so the URL is usable at once.
///
/// Fails with `InvalidInput` when the config's seed or canned answers do not check out
/// (see [`crate::SharedState::new`]), or with the bind error.
pub fn spawn(config: SimConfig, port: u16) -> io::Result<SimHandle> {
    let state =
        SharedState::new(config).map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
    let (ready_tx, ready_rx) = mpsc::channel::<io::Result<SocketAddr>>();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let served = state.clone();
    let thread = thread::Builder::new()
        .name("talkover-sim".to_owned())
        .spawn(move || run_thread(served, port, &ready_tx, stop_rx))?;
    let bound = ready_rx
        .recv()
        .unwrap_or_else(|_| Err(io::Error::other("simulator thread ended before binding")));
    match bound {
        Ok(addr) => Ok(SimHandle {
            addr,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
        }),
        Err(err) => {
            let _ = thread.join();
            Err(err)
        }
    }
}

/// The body of the simulator thread: one single-threaded runtime is plenty for a
/// loopback test server and keeps many simulators in one test run cheap.
fn run_thread(
    state: SharedState,
    port: u16,
    ready: &mpsc::Sender<io::Result<SocketAddr>>,
    stop: oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            let _ = ready.send(Err(err));
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            Ok(listener) => listener,
            Err(err) => {
                let _ = ready.send(Err(err));
                return;
            }
        };
        let addr = match listener.local_addr() {
            Ok(addr) => addr,
            Err(err) => {
                let _ = ready.send(Err(err));
                return;
            }
        };
        if ready.send(Ok(addr)).is_err() {
            return;
        }
        // A dropped sender (the handle went away without `shutdown`) also stops us.
        let shutdown = async move {
            let _ = stop.await;
        };
        if let Err(err) = serve(listener, state, shutdown).await {
            eprintln!("talkover-sim: server error: {err}");
        }
    });
}
