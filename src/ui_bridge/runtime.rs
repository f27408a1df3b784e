//! Running the kiosk: the windowed event loop, the headless script loop, and the
//! card monitor thread that feeds both.

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use estation_drivers::card::{CardMonitor, MonitorCanceller};
use estation_drivers::scanner::{ScanEvent, Scanner, ScannerThread};
use slint::ComponentHandle;

use crate::kiosk::backend::Backend;
use crate::kiosk::{Clock, Mailbox, ManualClock, Message};
use crate::session::{Event, Timeouts};
use crate::ui_bridge::app::{App, AppError, AppOptions};
use crate::ui_bridge::headless::{HeadlessError, HeadlessPlatform};
use crate::ui_bridge::panel;
use crate::ui_bridge::script::{Command, ScriptError};

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Headless(#[from] HeadlessError),
    #[error(transparent)]
    Script(#[from] ScriptError),
    #[error("the window system failed: {0}")]
    Platform(#[from] slint::PlatformError),
    #[error(
        "no display here: DISPLAY and WAYLAND_DISPLAY are not set and there is no DRM device (/dev/dri/card*) for the console. \
Run it in a desktop or compositor session (e.g. cage), on a kiosk's console, or without a window: estation demo --headless --script FILE"
    )]
    NoDisplay,
}

/// Whether a window can appear at all: a desktop or compositor session, a
/// chosen Slint backend, or the console through a DRM device. Without one,
/// Slint's own error lists every framebuffer device it tried.
fn display_available() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if [
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "WAYLAND_SOCKET",
        "SLINT_BACKEND",
    ]
    .iter()
    .any(|name| set(name))
    {
        return true;
    }
    std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("card"))
    })
}

/// What both runners need.
pub struct KioskSetup {
    pub backend: Arc<Backend>,
    pub runtime: tokio::runtime::Handle,
    pub timeouts: Timeouts,
    /// The reader an on-screen card control inserts into (demonstrations).
    pub on_screen_card: Option<String>,
    /// Watch the machine's PC/SC readers.
    pub card_reader: bool,
    /// The code scanner residents hold their phones under, when the kiosk has one.
    pub scanner: Option<Scanner>,
    /// The engine voice guidance speaks with; `None`: no voice guidance.
    pub speech: Option<Arc<dyn crate::speech::SpeechEngine>>,
    pub window: WindowSize,
    /// The picture's width on the glass in millimetres (`[display] width_mm`),
    /// to check the touch targets against.
    pub panel_width_mm: Option<f32>,
}

/// How much of the screen the kiosk's window takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowSize {
    /// Full-screen on the output the window system gives it, whatever its size
    /// (kiosks).
    FillOutput,
    /// A window of this many physical pixels (development, tests). Headless runs
    /// always use a fixed size.
    Fixed { width: u32, height: u32 },
}

impl WindowSize {
    /// The design size of a portrait kiosk, for headless runs that are not told one.
    pub const PORTRAIT: (u32, u32) = (1080, 1920);

    /// The pixels of a headless window.
    pub fn headless_pixels(self) -> (u32, u32) {
        match self {
            WindowSize::FillOutput => Self::PORTRAIT,
            WindowSize::Fixed { width, height } => (width, height),
        }
    }
}

/// What to do when the first frame is on screen (start-up benchmarks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstFrame {
    Ignore,
    /// Print `first-frame-ms N` on stdout.
    Report,
    /// Print it and quit.
    ReportAndQuit,
}

impl FirstFrame {
    pub fn from_flags(report: bool, quit: bool) -> Self {
        match (report, quit) {
            (_, true) => FirstFrame::ReportAndQuit,
            (true, false) => FirstFrame::Report,
            (false, false) => FirstFrame::Ignore,
        }
    }
}

thread_local! {
    /// The app of the UI thread, reached by wake-ups posted from other threads.
    static UI_APP: RefCell<Option<Rc<App>>> = const { RefCell::new(None) };
}

/// Runs the kiosk in a window until it is closed.
pub fn run_windowed(
    setup: KioskSetup,
    clock: Arc<dyn Clock>,
    first_frame: FirstFrame,
) -> Result<(), RuntimeError> {
    if !display_available() {
        return Err(RuntimeError::NoDisplay);
    }
    let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(|| {
        // Fails only when the event loop has ended, when nothing is left to update.
        let _ = slint::invoke_from_event_loop(|| {
            UI_APP.with(|slot| {
                if let Some(app) = slot.borrow().as_ref() {
                    app.drain();
                }
            });
        });
    });
    let runtime_handle = setup.runtime.clone();
    let (app, mailbox) = App::new(AppOptions {
        backend: setup.backend,
        runtime: setup.runtime,
        clock,
        timeouts: setup.timeouts,
        on_screen_card: setup.on_screen_card.clone(),
        wake,
        speech: setup.speech.clone(),
    })?;
    // The first frame that counts (READY, the start-up report) is one at the
    // window's final size: a bare X server first shows winit's default size.
    let final_size = Rc::new(Cell::new(FinalSize::Pending));
    match setup.window {
        WindowSize::Fixed { width, height } => {
            let size = slint::PhysicalSize::new(width, height);
            panel::apply_panel_scale(app.ui.window(), size);
            app.ui.window().set_size(size);
            final_size.set(FinalSize::Exactly(width, height));
        }
        WindowSize::FillOutput => fill_output(&app.ui, final_size.clone()),
    }
    let app = Rc::new(app);
    UI_APP.with(|slot| *slot.borrow_mut() = Some(app.clone()));
    let scanner = setup
        .scanner
        .and_then(|scanner| start_scanner(scanner, mailbox.clone()));
    let monitor = if setup.card_reader {
        start_card_monitor(mailbox)
    } else {
        None
    };

    // One tick a second drives the clock on screen and the idle timeout; nothing
    // else wakes the UI thread while the kiosk waits.
    let ticker = slint::Timer::default();
    let status_timer = slint::Timer::default();
    let weak = Rc::downgrade(&app);
    ticker.start(
        slint::TimerMode::Repeated,
        Duration::from_secs(1),
        move || {
            if let Some(app) = weak.upgrade() {
                app.tick();
            }
        },
    );

    // The service manager (systemd) and the start-up benchmark both learn of
    // the first frame once it has been handed to the display.
    let service = crate::ops::service::ServiceManager::from_environment().map(Rc::new);
    let liveness = crate::ops::service::Liveness::watch(&runtime_handle);
    {
        let service = service.clone();
        let started = std::time::Instant::now();
        let panel_width_mm = setup.panel_width_mm;
        let weak = Rc::downgrade(&app);
        on_first_presented_frame(&app.ui, final_size, move || {
            if let (Some(width_mm), Some(app)) = (panel_width_mm, weak.upgrade()) {
                check_touch_targets(&app, width_mm);
            }
            if let Some(service) = &service {
                service.ready();
            }
            if first_frame != FirstFrame::Ignore {
                println!("first-frame-ms {}", started.elapsed().as_millis());
                use std::io::Write;
                let _ = std::io::stdout().flush();
                if first_frame == FirstFrame::ReportAndQuit {
                    let _ = slint::quit_event_loop();
                }
            }
        });
    }
    // Pings come from this (the UI) thread: a frozen UI or controller stops them.
    let watchdog = slint::Timer::default();
    if let Some(service) = &service {
        if let Some(interval) = service.ping_interval() {
            let service = service.clone();
            service.ping_if_alive(&liveness);
            watchdog.start(slint::TimerMode::Repeated, interval, move || {
                service.ping_if_alive(&liveness);
            });
        }
        let status_service = service.clone();
        let weak = Rc::downgrade(&app);
        status_timer.start(
            slint::TimerMode::Repeated,
            Duration::from_secs(1),
            move || {
                if let Some(app) = weak.upgrade() {
                    status_service.status(&app.kiosk().service_status());
                }
            },
        );
    }

    app.ui.show()?;
    let result = slint::run_event_loop();
    if let Some(service) = &service {
        service.stopping();
    }
    drop((watchdog, status_timer));
    if let Some(monitor) = monitor {
        monitor.cancel();
    }
    stop_scanner(scanner);
    UI_APP.with(|slot| slot.borrow_mut().take());
    result.map_err(RuntimeError::from)
}

/// Works out how large the touch targets are on the glass, at the window's
/// final size and scale, logs it, and puts a panel too small for its
/// resolution into the kiosk's status line.
fn check_touch_targets(app: &App, width_mm: f32) {
    let window = app.ui.window();
    let targets =
        panel::TouchTargets::on_panel(window.size().width, width_mm, window.scale_factor());
    match targets.problem() {
        Some(problem) => {
            tracing::warn!(width_mm, "{problem}");
            app.set_panel_problem(Some(problem));
        }
        None => tracing::info!(
            width_mm,
            standard_mm = targets.standard_mm,
            elderly_mm = targets.elderly_mm,
            "touch targets on the glass"
        ),
    }
}

/// Calls `then` once, after the window's first frame has been drawn and handed to
/// the display (not merely after an event-loop turn). With the winit backend this
/// follows the first redraw; elsewhere the renderer's notifier, or the first turn
/// of the event loop where there is none.
fn on_first_presented_frame(
    ui: &crate::ui_bridge::AppWindow,
    final_size: Rc<Cell<FinalSize>>,
    then: impl FnOnce() + 'static,
) {
    use slint::winit_030::{EventResult, WinitWindowAccessor, winit};
    let then = Rc::new(RefCell::new(Some(then)));
    // The winit backend unless SLINT_BACKEND names another (linuxkms on the console).
    let winit = std::env::var("SLINT_BACKEND")
        .map_or(true, |name| name.is_empty() || name.starts_with("winit"));
    if winit {
        let pending = then.clone();
        ui.window().on_winit_window_event(move |window, event| {
            // Whoever sized the window (the compositor, the full-screen request),
            // the layout follows the panel: the scale changes before the window
            // takes its new logical size from the resize.
            // Creating the window resets the factor to the display's own, and a
            // window created at its final size gets no resize: the first redraw
            // catches that before it draws.
            match event {
                winit::event::WindowEvent::Resized(size) => {
                    panel::apply_panel_scale(
                        window,
                        slint::PhysicalSize::new(size.width, size.height),
                    );
                }
                winit::event::WindowEvent::RedrawRequested
                    if panel::apply_panel_scale(window, window.size()) =>
                {
                    panel::fit_logical_size(window);
                }
                _ => {}
            }
            let size = window.size();
            let at_final_size = match final_size.get() {
                FinalSize::Pending => false,
                FinalSize::Any => true,
                FinalSize::Exactly(width, height) => size.width == width && size.height == height,
            };
            if matches!(event, winit::event::WindowEvent::RedrawRequested)
                && at_final_size
                && let Some(then) = pending.borrow_mut().take()
            {
                // A timer fires after this event is handled, that is after the frame
                // is drawn and handed to the display.
                slint::Timer::single_shot(Duration::ZERO, then);
            }
            EventResult::Propagate
        });
        return;
    }
    let pending = then.clone();
    let weak = ui.as_weak();
    let notified = ui.window().set_rendering_notifier(move |state, _| {
        // Other backends (linuxkms) size the window to the output themselves: the
        // layout follows the panel from the next frame on.
        if matches!(state, slint::RenderingState::BeforeRendering)
            && let Some(ui) = weak.upgrade()
            && panel::apply_panel_scale(ui.window(), ui.window().size())
        {
            let window = ui.as_weak();
            slint::Timer::single_shot(Duration::ZERO, move || {
                if let Some(ui) = window.upgrade() {
                    panel::fit_logical_size(ui.window());
                }
            });
        }
        if matches!(state, slint::RenderingState::AfterRendering)
            && let Some(then) = pending.borrow_mut().take()
        {
            then();
        }
    });
    if notified.is_err() {
        slint::Timer::single_shot(Duration::ZERO, move || {
            if let Some(then) = then.borrow_mut().take() {
                then();
            }
        });
    }
}

/// Makes the window cover its output. Window managers and Wayland compositors honour
/// the full-screen request; a bare X server (a kiosk started with `xinit`) has
/// nobody to honour it, so the window is also sized to its monitor once it exists.
/// `target` learns the window's final size once it is known.
fn fill_output(ui: &crate::ui_bridge::AppWindow, target: Rc<Cell<FinalSize>>) {
    use slint::winit_030::WinitWindowAccessor;
    ui.window().set_fullscreen(true);
    let weak = ui.as_weak();
    let known = target.clone();
    let spawned = slint::spawn_local(async move {
        // Whatever happens below, a frame of any size counts from then on.
        let _settled = SettleOnDrop(known.clone());
        let Some(ui) = weak.upgrade() else { return };
        let Ok(winit_window) = ui.window().winit_window().await else {
            return;
        };
        let Some(monitor) = winit_window.current_monitor() else {
            ui.window().request_redraw();
            return;
        };
        let size = monitor.size();
        let position = monitor.position();
        tracing::info!(
            width = size.width,
            height = size.height,
            "window fills its output"
        );
        ui.window()
            .set_position(slint::PhysicalPosition::new(position.x, position.y));
        known.set(FinalSize::Exactly(size.width, size.height));
        let size = slint::PhysicalSize::new(size.width, size.height);
        if panel::apply_panel_scale(ui.window(), size) && ui.window().size() == size {
            // Already at that size: no resize will come to re-lay it out.
            panel::fit_logical_size(ui.window());
        }
        ui.window().set_size(size);
        // A frame at the final size follows even where the size did not change.
        ui.window().request_redraw();
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "the window could not be sized to its output");
        target.set(FinalSize::Any);
    }
}

/// The size of the window's first frame that counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FinalSize {
    /// Not known yet: the window is still being sized.
    Pending,
    Exactly(u32, u32),
    /// Whatever the window system gives.
    Any,
}

/// Settles a still pending size when dropped, however the task holding it ends.
struct SettleOnDrop(Rc<Cell<FinalSize>>);

impl Drop for SettleOnDrop {
    fn drop(&mut self) {
        if self.0.get() == FinalSize::Pending {
            self.0.set(FinalSize::Any);
        }
    }
}

/// Runs a script against the kiosk without a display.
pub fn run_headless(
    setup: KioskSetup,
    clock: Arc<ManualClock>,
    commands: &[(usize, Command)],
    base: &Path,
    link: Option<&dyn crate::ui_bridge::script::LinkControl>,
) -> Result<(), RuntimeError> {
    let (width, height) = setup.window.headless_pixels();
    let window = HeadlessPlatform::install(width, height)?;
    let (app, mailbox) = App::new(AppOptions {
        backend: setup.backend,
        runtime: setup.runtime,
        clock: clock.clone(),
        timeouts: setup.timeouts,
        on_screen_card: setup.on_screen_card.clone(),
        // The script loop waits on the mailbox itself.
        wake: Arc::new(|| {}),
        speech: setup.speech.clone(),
    })?;
    let scanner = setup
        .scanner
        .and_then(|scanner| start_scanner(scanner, mailbox.clone()));
    let monitor = if setup.card_reader {
        start_card_monitor(mailbox)
    } else {
        None
    };
    app.ui.show()?;
    let result = crate::ui_bridge::script::run(&app, &window, &clock, commands, base, link);
    if let Some(monitor) = monitor {
        monitor.cancel();
    }
    stop_scanner(scanner);
    Ok(result?)
}

/// Reads the code scanner in a thread of its own and posts what it reads. An
/// absent or lost scanner is retried by the driver; codes are never logged.
fn start_scanner(scanner: Scanner, mailbox: Mailbox) -> Option<ScannerThread> {
    let spawned = scanner.spawn(move |event| {
        match &event {
            ScanEvent::Connected {
                device,
                description,
            } => tracing::info!(%device, ?description, "code scanner connected"),
            ScanEvent::Unavailable(error) => tracing::warn!(%error, "code scanner unavailable"),
            ScanEvent::Rejected(error) => tracing::info!(%error, "scan rejected"),
            ScanEvent::Scanned(code) => tracing::debug!(length = code.len(), "code scanned"),
        }
        mailbox.post(Message::Session(Event::Scanner(event)));
    });
    match spawned {
        Ok(thread) => Some(thread),
        Err(error) => {
            tracing::error!(%error, "code scanner thread could not start");
            None
        }
    }
}

fn stop_scanner(scanner: Option<ScannerThread>) {
    if let Some(thread) = scanner
        && let Err(error) = thread.stop()
    {
        tracing::warn!(%error, "code scanner stopped with an error");
    }
}

/// Watches PC/SC readers in a thread of its own and posts card events. Without a
/// PC/SC service the kiosk still runs (the demo card, a degraded banner), and the
/// monitor keeps trying, so a service started later is picked up.
fn start_card_monitor(mailbox: Mailbox) -> Option<MonitorCanceller> {
    let mut monitor = match CardMonitor::new() {
        Ok(monitor) => monitor,
        Err(error) => {
            tracing::warn!(%error, "card monitoring unavailable");
            return None;
        }
    };
    let canceller = monitor.canceller();
    let spawned = std::thread::Builder::new()
        .name("card-monitor".into())
        .spawn(move || {
            let result = monitor.run(&mut |event| {
                tracing::info!(?event, "card event");
                mailbox.post(Message::Session(Event::Card(event)));
            });
            if let Err(error) = result {
                tracing::error!(%error, "card monitor stopped");
            }
        });
    match spawned {
        Ok(_) => Some(canceller),
        Err(error) => {
            tracing::error!(%error, "card monitor thread could not start");
            None
        }
    }
}
