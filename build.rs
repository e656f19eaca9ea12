fn main() {
    // The demo store is embedded with include_dir!, which cargo does not track by itself.
    println!("cargo:rerun-if-changed=assets/demo");
    #[cfg(feature = "kiosk")]
    {
        println!("cargo:rerun-if-changed=ui/translations");
        // Strings are translated by their English text alone (no per-component context),
        // so one phrase used on two screens is translated once.
        let config = slint_build::CompilerConfiguration::new()
            .with_bundled_translations("ui/translations")
            .with_default_translation_context(slint_build::DefaultTranslationContext::None)
            // Element names for the accessibility-driven UI tests (ElementHandle); small.
            .with_debug_info(true);
        slint_build::compile_with_config("ui/app.slint", config).expect("ui/app.slint compiles");
    }
}
