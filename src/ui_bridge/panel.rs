//! Type and touch targets that follow the panel's size. The screens are laid out
//! in logical pixels for the two reference panels, 1080x1920 (portrait) and
//! 1920x1080 (landscape); a panel of another size gets the window scale factor at
//! which its shorter side relative to the reference fills, so a 768x1366 panel
//! shows the portrait layout at 0.71, a 1366x768 one the landscape layout at 0.71,
//! and a 2160x3840 one the portrait layout at 2. The same rule applies to the real
//! window and to headless screenshots, so both show the same picture.

use slint::platform::WindowEvent;

/// The smallest touch target a resident should meet on the glass, in
/// millimetres (the usual accessibility guidance for kiosks).
pub const TOUCH_TARGET_MIN_MM: f32 = 15.0;
/// The smallest touch target of the layouts, in logical pixels: `Theme.touch-min`
/// in standard and in elderly mode (a test keeps these equal to the theme's).
pub const TOUCH_MIN_STANDARD_PX: f32 = 120.0;
pub const TOUCH_MIN_ELDERLY_PX: f32 = 150.0;

/// How large the smallest touch targets come out on a panel whose picture is
/// `width_mm` wide and `width_px` physical pixels wide, drawn at `scale`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TouchTargets {
    pub standard_mm: f32,
    pub elderly_mm: f32,
}

impl TouchTargets {
    pub fn on_panel(width_px: u32, width_mm: f32, scale: f32) -> Self {
        let mm_per_logical_px = scale * width_mm / width_px.max(1) as f32;
        TouchTargets {
            standard_mm: TOUCH_MIN_STANDARD_PX * mm_per_logical_px,
            elderly_mm: TOUCH_MIN_ELDERLY_PX * mm_per_logical_px,
        }
    }

    /// What a technician should hear when the standard targets are too small
    /// for the panel; `None` when they are large enough.
    pub fn problem(&self) -> Option<String> {
        (self.standard_mm < TOUCH_TARGET_MIN_MM).then(|| {
            format!(
                "touch targets {:.1} mm (elderly mode {:.1} mm), under {TOUCH_TARGET_MIN_MM} mm: the panel is too small for its resolution",
                self.standard_mm, self.elderly_mm
            )
        })
    }
}

/// The reference panels, in physical pixels.
const PORTRAIT: (f32, f32) = (1080.0, 1920.0);
const LANDSCAPE: (f32, f32) = (1920.0, 1080.0);

/// The window scale factor for a panel of `width` x `height` physical pixels.
/// Rounded down to hundredths, so that the logical size never falls short of the
/// reference in the limiting direction and the factor is the same wherever it is
/// computed.
pub fn panel_scale(width: u32, height: u32) -> f32 {
    if width == 0 || height == 0 {
        return 1.0;
    }
    let (reference_width, reference_height) = if width > height { LANDSCAPE } else { PORTRAIT };
    let fit = (width as f32 / reference_width).min(height as f32 / reference_height);
    ((fit * 100.0 + 1e-3).floor() / 100.0).max(0.1)
}

/// Gives `window` the scale factor of a panel of `size`, if it does not have it
/// already; true when it changed. The caller makes the window take its logical
/// size from it (a resize, or [`fit_logical_size`]).
pub fn apply_panel_scale(window: &slint::Window, size: slint::PhysicalSize) -> bool {
    let scale = panel_scale(size.width, size.height);
    if (window.scale_factor() - scale).abs() < 1e-4 {
        return false;
    }
    window.dispatch_event(WindowEvent::ScaleFactorChanged {
        scale_factor: scale,
    });
    true
}

/// Re-lays the window out at its current physical size and scale factor (after a
/// scale change that came without a resize).
pub fn fit_logical_size(window: &slint::Window) {
    let size = window.size().to_logical(window.scale_factor());
    window.dispatch_event(WindowEvent::Resized { size });
    window.request_redraw();
}

#[cfg(test)]
mod tests {
    use super::{TouchTargets, panel_scale};

    #[test]
    fn touch_targets_follow_the_panels_millimetres() {
        // A 21.5-inch portrait panel: 268 mm wide, 1080 pixels, drawn at 1.
        let floor = TouchTargets::on_panel(1080, 268.0, 1.0);
        assert!((floor.standard_mm - 29.8).abs() < 0.1, "{floor:?}");
        assert!((floor.elderly_mm - 37.2).abs() < 0.1, "{floor:?}");
        assert_eq!(floor.problem(), None);
        // A 10-inch 1280x800 tablet panel, 217 mm wide, drawn at 0.66.
        let small = TouchTargets::on_panel(1280, 217.0, panel_scale(1280, 800));
        assert!(small.standard_mm < 15.0, "{small:?}");
        let problem = small.problem().expect("too small");
        assert!(problem.contains("13.4 mm"), "{problem}");
    }

    #[test]
    fn the_reference_panels_are_drawn_at_their_own_size() {
        assert_eq!(panel_scale(1080, 1920), 1.0);
        assert_eq!(panel_scale(1920, 1080), 1.0);
    }

    #[test]
    fn smaller_and_larger_panels_scale_to_their_limiting_side() {
        assert_eq!(panel_scale(1366, 768), 0.71);
        assert_eq!(panel_scale(768, 1366), 0.71);
        assert_eq!(panel_scale(1280, 720), 0.66);
        assert_eq!(panel_scale(540, 960), 0.5);
        assert_eq!(panel_scale(2160, 3840), 2.0);
        // A wider portrait panel is limited by its height.
        assert_eq!(panel_scale(1200, 1920), 1.0);
    }

    #[test]
    fn the_logical_size_is_never_smaller_than_the_reference() {
        for (width, height) in [
            (1366, 768),
            (768, 1366),
            (1280, 720),
            (800, 1280),
            (1024, 600),
        ] {
            let scale = panel_scale(width, height);
            let (reference_width, reference_height) = if width > height {
                (1920.0, 1080.0)
            } else {
                (1080.0, 1920.0)
            };
            assert!(
                width as f32 / scale >= reference_width,
                "{width}x{height}: {scale}"
            );
            assert!(
                height as f32 / scale >= reference_height,
                "{width}x{height}: {scale}"
            );
        }
    }

    #[test]
    fn an_empty_size_keeps_the_identity_scale() {
        assert_eq!(panel_scale(0, 1080), 1.0);
    }
}
