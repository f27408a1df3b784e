fn main() {
    slint_build::compile("ui/app.slint").expect("the Slint UI must compile");
}
