//! Rendering without a display: a Slint platform backed by the software renderer and
//! a pixel buffer, for screenshots, headless scripts and tests.

use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{PhysicalSize, PlatformError, Rgb8Pixel};

/// A Slint platform with one software-rendered window and a clock the caller moves,
/// so animations and timers are deterministic in screenshots.
pub struct HeadlessPlatform {
    window: Rc<MinimalSoftwareWindow>,
    clock: Rc<Cell<Duration>>,
}

/// The handle kept by the caller after the platform is installed.
#[derive(Clone)]
pub struct HeadlessWindow {
    window: Rc<MinimalSoftwareWindow>,
    clock: Rc<Cell<Duration>>,
}

#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error("a Slint platform is already installed in this process")]
    PlatformTaken,
    #[error("nothing was rendered")]
    NothingRendered,
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: image::ImageError,
    },
}

impl HeadlessPlatform {
    /// Installs the platform for this thread's Slint; call before creating any window.
    pub fn install(width: u32, height: u32) -> Result<HeadlessWindow, HeadlessError> {
        Self::install_at(width, height, None)
    }

    /// [`install`](Self::install) with a scale factor other than the panel's
    /// (`None`: the panel's, from its size).
    pub fn install_at(
        width: u32,
        height: u32,
        scale: Option<f32>,
    ) -> Result<HeadlessWindow, HeadlessError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        let size = PhysicalSize::new(width, height);
        match scale {
            Some(scale_factor) => window
                .window()
                .dispatch_event(slint::platform::WindowEvent::ScaleFactorChanged { scale_factor }),
            None => {
                crate::ui_bridge::panel::apply_panel_scale(window.window(), size);
            }
        }
        window.set_size(size);
        let clock = Rc::new(Cell::new(Duration::ZERO));
        let platform = HeadlessPlatform {
            window: window.clone(),
            clock: clock.clone(),
        };
        slint::platform::set_platform(Box::new(platform))
            .map_err(|_| HeadlessError::PlatformTaken)?;
        Ok(HeadlessWindow { window, clock })
    }
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.window.clone())
    }

    fn duration_since_start(&self) -> Duration {
        self.clock.get()
    }
}

impl HeadlessWindow {
    pub fn size(&self) -> (u32, u32) {
        let size = self.window.window().size();
        (size.width, size.height)
    }

    /// Moves the platform clock forward and runs due timers and animations.
    pub fn advance(&self, by: Duration) {
        self.clock.set(self.clock.get() + by);
        slint::platform::update_timers_and_animations();
    }

    /// A finger on the screen at (`x`, `y`) pixels, lifted again: the same
    /// events a touch panel gives, hit-tested by the window itself.
    pub fn touch(&self, x: f32, y: f32) {
        use slint::platform::{PointerEventButton, WindowEvent};
        // Layouts and geometry settle before the finger lands.
        self.advance(Duration::from_millis(1));
        let _ = self.render();
        let position = slint::LogicalPosition::new(x, y);
        let window = self.window.window();
        window.dispatch_event(WindowEvent::PointerMoved { position });
        window.dispatch_event(WindowEvent::PointerPressed {
            position,
            button: PointerEventButton::Left,
        });
        window.dispatch_event(WindowEvent::PointerReleased {
            position,
            button: PointerEventButton::Left,
        });
        window.dispatch_event(WindowEvent::PointerExited);
        self.advance(Duration::from_millis(1));
    }

    /// A key pressed and released on the keyboard (or a kiosk's tactile
    /// keypad): `text` as Slint names keys. Focus moves the key asks for are
    /// carried out before this returns.
    pub fn key(&self, text: slint::SharedString) {
        use slint::platform::WindowEvent;
        self.advance(Duration::from_millis(1));
        let window = self.window.window();
        window.dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
        window.dispatch_event(WindowEvent::KeyReleased { text });
        self.advance(Duration::from_millis(1));
    }

    /// Renders the current state of the window into an RGB image.
    pub fn render(&self) -> Result<image::RgbImage, HeadlessError> {
        // Let bindings settle and any running animation finish before the picture.
        self.advance(Duration::from_secs(5));
        self.render_now()
    }

    /// Renders the window at the platform's current time: a second picture of
    /// the same moment (spinners at the same angle), for comparisons.
    pub fn render_now(&self) -> Result<image::RgbImage, HeadlessError> {
        let (width, height) = self.size();
        let mut pixels = vec![Rgb8Pixel::new(0, 0, 0); width as usize * height as usize];
        self.window.request_redraw();
        let drawn = self.window.draw_if_needed(|renderer| {
            renderer.render(&mut pixels, width as usize);
        });
        if !drawn {
            return Err(HeadlessError::NothingRendered);
        }
        let bytes: Vec<u8> = pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
        image::RgbImage::from_raw(width, height, bytes).ok_or(HeadlessError::NothingRendered)
    }

    pub fn save_png(&self, path: &Path) -> Result<image::RgbImage, HeadlessError> {
        let image = self.render()?;
        image.save(path).map_err(|source| HeadlessError::Write {
            path: path.display().to_string(),
            source,
        })?;
        Ok(image)
    }
}
