//! Wiring: one window, one controller, one mailbox. Used by the windowed kiosk, by
//! headless scripts and by tests alike, so they all run the same code.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use slint::ComponentHandle;
use slint::platform::{Key, WindowEvent};

use crate::i18n::Translator;
use crate::kiosk::backend::Backend;
use crate::kiosk::{Clock, Kiosk, KioskParts, Mailbox, Message};
use crate::session::{Screen, Timeouts, UiAction};
use crate::ui_bridge::keys::{KeyOutcome, key_outcome};
use crate::ui_bridge::{self, AppWindow, KeyNav};
use crate::view::Input;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the window could not be created: {0}")]
    Window(#[from] slint::PlatformError),
    #[error("translations failed to load: {0}")]
    I18n(#[from] crate::i18n::I18nError),
    #[error("timed out after {seconds} s waiting for screen {wanted} (still on {current})")]
    Timeout {
        wanted: &'static str,
        current: &'static str,
        seconds: u64,
    },
    #[error("the kiosk's background work stopped")]
    Disconnected,
}

pub struct App {
    pub ui: AppWindow,
    kiosk: Rc<RefCell<Kiosk>>,
    inbox: Receiver<Message>,
}

pub struct AppOptions {
    pub backend: Arc<Backend>,
    pub runtime: tokio::runtime::Handle,
    pub clock: Arc<dyn Clock>,
    pub timeouts: Timeouts,
    /// The reader an on-screen card control inserts into (demonstrations).
    pub on_screen_card: Option<String>,
    /// Called from any thread after a message is posted, to wake the UI thread.
    pub wake: Arc<dyn Fn() + Send + Sync>,
    /// The engine voice guidance speaks with; `None`: the kiosk has no voice.
    pub speech: Option<Arc<dyn crate::speech::SpeechEngine>>,
}

impl App {
    /// Creates the window and the controller. Card events and other device news enter
    /// through [`App::mailbox`].
    pub fn new(options: AppOptions) -> Result<(Self, Mailbox), AppError> {
        let translator = Arc::new(Translator::new()?);
        let ui = AppWindow::new()?;
        ui_bridge::install_translator(&ui, translator.clone());
        let (sender, inbox) = channel();
        let mailbox = Mailbox::new(sender, options.wake);
        let kiosk = Rc::new(RefCell::new(Kiosk::new(KioskParts {
            backend: options.backend,
            runtime: options.runtime,
            mailbox: mailbox.clone(),
            clock: options.clock,
            translator,
            timeouts: options.timeouts,
            on_screen_card: options.on_screen_card,
            speech: options.speech,
        })));
        let weak_kiosk = Rc::downgrade(&kiosk);
        let weak_ui = ui.as_weak();
        ui.on_action(move |verb, argument| {
            let (Some(kiosk), Some(ui)) = (weak_kiosk.upgrade(), weak_ui.upgrade()) else {
                return;
            };
            // Turning a page of the service list is presentation only.
            if verb == "services-page" {
                ui_bridge::turn_services_page(&ui, &argument);
                return;
            }
            let input = if verb == "keyboard" {
                let (screen, letters) = {
                    let kiosk = kiosk.borrow();
                    (kiosk.screen(), ui.get_keypad_letters())
                };
                match key_outcome(screen, letters, &argument) {
                    KeyOutcome::Input(input) => Some(input),
                    KeyOutcome::FocusNext => {
                        move_focus(&ui, Key::Tab);
                        Some(Input::Ui(UiAction::Touch))
                    }
                    KeyOutcome::FocusPrevious => {
                        move_focus(&ui, Key::Backtab);
                        Some(Input::Ui(UiAction::Touch))
                    }
                }
            } else {
                ui_bridge::parse_action(&verb, &argument)
            };
            if let Some(input) = input {
                kiosk.borrow_mut().input(input);
                refresh(&ui, &kiosk);
            }
        });
        // Keyboard focus moved: voice guidance says where it is.
        let weak_kiosk = Rc::downgrade(&kiosk);
        let weak_ui = ui.as_weak();
        ui.global::<KeyNav>().on_focused(move |label| {
            let (Some(kiosk), Some(ui)) = (weak_kiosk.upgrade(), weak_ui.upgrade()) else {
                return;
            };
            kiosk.borrow_mut().input(Input::Focused(label.into()));
            refresh(&ui, &kiosk);
        });
        let app = Self { ui, kiosk, inbox };
        app.present();
        // Keys work from the first screen on (F2 turns voice guidance on there).
        app.ui.invoke_focus_keys();
        Ok((app, mailbox))
    }

    pub fn kiosk(&self) -> std::cell::Ref<'_, Kiosk> {
        self.kiosk.borrow()
    }

    /// Tells the controller what is wrong with the panel, if anything.
    pub fn set_panel_problem(&self, problem: Option<String>) {
        self.kiosk.borrow_mut().set_panel_problem(problem);
    }

    pub fn screen(&self) -> Screen {
        self.kiosk.borrow().screen()
    }

    pub fn present(&self) {
        refresh(&self.ui, &self.kiosk);
    }

    /// What voice guidance said since the last call, oldest first.
    pub fn take_spoken(&self) -> Vec<String> {
        self.kiosk.borrow_mut().take_spoken()
    }

    /// Handles every message waiting in the mailbox; returns how many there were.
    pub fn drain(&self) -> usize {
        let mut handled = 0;
        while let Ok(message) = self.inbox.try_recv() {
            self.kiosk.borrow_mut().message(message);
            handled += 1;
        }
        if handled > 0 {
            self.present();
        }
        handled
    }

    pub fn tick(&self) {
        self.kiosk.borrow_mut().tick();
        self.present();
    }

    /// Handles results until no work the kiosk started is still under way (a
    /// rating being queued, a document being fetched).
    pub fn wait_settled(&self, deadline: Duration) -> Result<(), AppError> {
        self.handle_until(deadline, "settled", || true)
    }

    /// Handles results until the scanner has delivered `codes` codes in all
    /// since the kiosk started (whether a screen wanted them or not).
    /// Handles results until the code scanner is open and reading: a code sent
    /// before that is lost, as it would be at a real kiosk.
    pub fn wait_for_scanner(&self, deadline: Duration) -> Result<(), AppError> {
        self.handle_until(deadline, "the code scanner", || {
            self.kiosk.borrow().session().scanner_ready()
        })
    }

    pub fn wait_for_scans(&self, codes: u64, deadline: Duration) -> Result<(), AppError> {
        self.handle_until(deadline, "scanned codes", || {
            self.kiosk.borrow().codes_scanned() >= codes
        })
    }

    /// Handles results until `done` holds and the kiosk has settled; a timeout
    /// names `wanted`.
    fn handle_until(
        &self,
        deadline: Duration,
        wanted: &'static str,
        done: impl Fn() -> bool,
    ) -> Result<(), AppError> {
        let until = Instant::now() + deadline;
        loop {
            self.drain();
            if done() && self.kiosk.borrow().is_settled() {
                return Ok(());
            }
            let left = until.saturating_duration_since(Instant::now());
            match self.inbox.recv_timeout(left) {
                Ok(message) => {
                    self.kiosk.borrow_mut().message(message);
                    self.present();
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(AppError::Timeout {
                        wanted,
                        current: self.screen().name(),
                        seconds: deadline.as_secs(),
                    });
                }
                Err(RecvTimeoutError::Disconnected) => return Err(AppError::Disconnected),
            }
        }
    }

    /// Handles results as they come for `duration`, whatever the screen.
    pub fn serve_for(&self, duration: Duration) -> Result<(), AppError> {
        let until = Instant::now() + duration;
        loop {
            self.drain();
            let left = until.saturating_duration_since(Instant::now());
            match self.inbox.recv_timeout(left) {
                Ok(message) => {
                    self.kiosk.borrow_mut().message(message);
                    self.present();
                }
                Err(RecvTimeoutError::Timeout) => return Ok(()),
                Err(RecvTimeoutError::Disconnected) => return Err(AppError::Disconnected),
            }
        }
    }

    /// Handles messages as they arrive until the kiosk shows `wanted` with no work
    /// under way. The deadline only guards against a hang; progress is driven by the
    /// messages themselves.
    pub fn wait_for(&self, wanted: Screen, deadline: Duration) -> Result<(), AppError> {
        self.handle_until(deadline, wanted.name(), || self.screen() == wanted)
    }
}

/// Presents the kiosk's view; voice guidance follows it.
fn refresh(ui: &AppWindow, kiosk: &RefCell<Kiosk>) {
    let view = kiosk.borrow().view();
    ui_bridge::present(ui, &view);
    kiosk.borrow_mut().follow_voice(&view);
}

/// Moves the keyboard focus as Tab or Shift+Tab would. Deferred to the event
/// loop: the key that asked for it is still being delivered.
fn move_focus(ui: &AppWindow, key: Key) {
    let weak = ui.as_weak();
    slint::Timer::single_shot(Duration::ZERO, move || {
        if let Some(ui) = weak.upgrade() {
            let text: slint::SharedString = key.into();
            ui.window()
                .dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
            ui.window()
                .dispatch_event(WindowEvent::KeyReleased { text });
        }
    });
}
