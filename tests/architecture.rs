//! The shape of the code, checked: which part may use which (ARCHITECTURE.md's
//! invariants), and no module that uses another which uses it back, directly or
//! around a circle, in any crate of the workspace.
//!
//! Every source file is parsed (syn); each `use` and each path that names a module
//! of the same crate (`crate::`, `super::`, `self::`, or a child module's name) is
//! an edge from the file's module to the module it names. Declaring a submodule
//! (`mod x;`) is containment, not use.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// Which modules each module uses.
type Graph = BTreeMap<Vec<String>, BTreeSet<Vec<String>>>;

/// One crate's modules: module path (`["kiosk", "backend"]`) to its file, and
/// what each re-exports (`pub use`), so that a name used through a re-export
/// counts as a use of the module that defines it.
struct Crate {
    name: &'static str,
    modules: BTreeMap<Vec<String>, PathBuf>,
    reexports: BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>>,
}

impl Crate {
    fn load(name: &'static str, src: &Path) -> Crate {
        let mut modules = BTreeMap::new();
        for file in rust_files(src) {
            let relative = file.strip_prefix(src).unwrap();
            let mut path: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let last = path.pop().unwrap();
            // The crate roots and the binaries are not modules of the library.
            if path.first().is_some_and(|p| p == "bin") {
                continue;
            }
            match last.as_str() {
                "lib.rs" | "main.rs" if path.is_empty() => continue,
                "mod.rs" => {}
                other => path.push(other.trim_end_matches(".rs").to_owned()),
            }
            modules.insert(path, file);
        }
        let mut krate = Crate {
            name,
            modules,
            reexports: BTreeMap::new(),
        };
        let mut reexports = BTreeMap::new();
        for (module, file) in &krate.modules {
            let syntax = parse(file);
            let children = krate.children(module);
            let mut names = BTreeMap::new();
            for item in &syntax.items {
                if let syn::Item::Use(item) = item
                    && matches!(item.vis, syn::Visibility::Public(_))
                {
                    let mut collector = Collector::default();
                    collector.flatten_named(&mut Vec::new(), &item.tree);
                    for (name, path) in collector.named {
                        if let Some(absolute) = absolute(module, &children, &path) {
                            names.insert(name, absolute);
                        }
                    }
                }
            }
            reexports.insert(module.clone(), names);
        }
        krate.reexports = reexports;
        krate
    }

    fn children(&self, module: &[String]) -> BTreeSet<String> {
        self.modules
            .keys()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .map(|m| m[module.len()].clone())
            .collect()
    }

    /// The module that defines what `segments` (absolute, after `crate`) names:
    /// the deepest module on the path, followed through its re-exports.
    fn resolve(&self, segments: &[String]) -> Option<Vec<String>> {
        let mut segments = segments.to_vec();
        for _ in 0..8 {
            let module = (1..=segments.len())
                .rev()
                .map(|n| segments[..n].to_vec())
                .find(|prefix| self.modules.contains_key(prefix))?;
            let next = segments
                .get(module.len())
                .and_then(|name| self.reexports.get(&module)?.get(name));
            match next {
                Some(target) => {
                    segments = [target.clone(), segments[module.len() + 1..].to_vec()].concat()
                }
                None => return Some(module),
            }
        }
        None
    }

    /// Module-to-module uses, and every external crate path each module names.
    fn edges(&self) -> (Graph, Vec<Use>) {
        let mut edges: Graph = BTreeMap::new();
        let mut uses = Vec::new();
        for (module, file) in &self.modules {
            let syntax = parse(file);
            let mut collector = Collector::default();
            collector.visit_file(&syntax);
            let children = self.children(module);
            for path in collector.paths {
                let absolute = absolute(module, &children, &path);
                match absolute {
                    Some(absolute) => {
                        if let Some(target) = self.resolve(&absolute)
                            && &target != module
                            // A module's own submodule named through `self::` is
                            // containment (re-exports follow to the child).
                            && !(target.len() > module.len() && target.starts_with(module) && path.first().is_some_and(|s| s == "self"))
                        {
                            edges.entry(module.clone()).or_default().insert(target);
                        }
                        uses.push(Use {
                            module: module.clone(),
                            path: ["crate".to_owned()].into_iter().chain(absolute).collect(),
                        });
                    }
                    None => uses.push(Use {
                        module: module.clone(),
                        path,
                    }),
                }
            }
        }
        (edges, uses)
    }
}

fn parse(file: &Path) -> syn::File {
    let text = std::fs::read_to_string(file).unwrap();
    syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// `path` as written in `module` made absolute (without `crate`), when it names
/// this crate: `crate::`, `self::`, `super::`, or a child module's name.
fn absolute(
    module: &[String],
    children: &BTreeSet<String>,
    path: &[String],
) -> Option<Vec<String>> {
    match path.first().map(String::as_str) {
        Some("crate") => Some(path[1..].to_vec()),
        Some("self") => Some([module.to_vec(), path[1..].to_vec()].concat()),
        Some("super") => {
            let mut base = module.to_vec();
            let mut rest = path;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
            Some([base, rest.to_vec()].concat())
        }
        Some(first) if children.contains(first) => Some([module.to_vec(), path.to_vec()].concat()),
        _ => None,
    }
}

/// A path a module names: `crate::...` for its own crate, else as written.
#[derive(Debug)]
struct Use {
    module: Vec<String>,
    path: Vec<String>,
}

#[derive(Default)]
struct Collector {
    paths: Vec<Vec<String>>,
    /// Names a `use` brought into scope, and the paths they stand for.
    bindings: BTreeMap<String, Vec<String>>,
    /// `pub use` names and the paths they stand for.
    named: Vec<(String, Vec<String>)>,
}

impl Collector {
    fn flatten_named(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.flatten_named(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut path = prefix.clone();
                path.push(n.ident.to_string());
                self.named.push((n.ident.to_string(), path));
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix.clone();
                path.push(r.ident.to_string());
                self.named.push((r.rename.to_string(), path));
            }
            syn::UseTree::Glob(_) => {}
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.flatten_named(prefix, item);
                }
            }
        }
    }

    fn flatten(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.flatten(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut path = prefix.clone();
                if n.ident != "self" {
                    path.push(n.ident.to_string());
                }
                self.paths.push(path);
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix.clone();
                if r.ident != "self" {
                    path.push(r.ident.to_string());
                }
                self.paths.push(path);
            }
            syn::UseTree::Glob(_) => self.paths.push(prefix.clone()),
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.flatten(prefix, item);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.flatten(&mut Vec::new(), &item.tree);
        let mut named = Collector::default();
        named.flatten_named(&mut Vec::new(), &item.tree);
        self.bindings.extend(named.named);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.len() > 1 {
            let written: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            // A path through a name a `use` brought in (`certificate::start` after
            // `use super::certificate`) is a path through what the name stands for.
            let expanded = match self.bindings.get(&written[0]) {
                Some(bound) => [bound.clone(), written[1..].to_vec()].concat(),
                None => written,
            };
            self.paths.push(expanded);
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        // Inline test modules may use anything of their parent.
        let is_test = item.attrs.iter().any(|a| {
            a.path().is_ident("cfg") && a.parse_args::<syn::Ident>().is_ok_and(|i| i == "test")
        });
        if !is_test {
            syn::visit::visit_item_mod(self, item);
        }
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn show(module: &[String]) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

/// Modules in circles (Tarjan's strongly connected components of size > 1).
fn cycles(edges: &Graph) -> Vec<Vec<Vec<String>>> {
    struct Tarjan<'a> {
        edges: &'a Graph,
        index: BTreeMap<Vec<String>, usize>,
        low: BTreeMap<Vec<String>, usize>,
        stack: Vec<Vec<String>>,
        on_stack: BTreeSet<Vec<String>>,
        next: usize,
        found: Vec<Vec<Vec<String>>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: &Vec<String>) {
            self.index.insert(v.clone(), self.next);
            self.low.insert(v.clone(), self.next);
            self.next += 1;
            self.stack.push(v.clone());
            self.on_stack.insert(v.clone());
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v.clone(), low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v.clone(), low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(&w);
                    let done = &w == v;
                    component.push(w);
                    if done {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !tarjan.index.contains_key(v) {
            tarjan.visit(v);
        }
    }
    tarjan.found
}

fn assert_acyclic(krate: &Crate) {
    let (edges, _) = krate.edges();
    let circles = cycles(&edges);
    let described: Vec<String> = circles
        .iter()
        .map(|c| {
            let inside: Vec<String> = c
                .iter()
                .flat_map(|from| {
                    edges[from]
                        .iter()
                        .filter(|to| c.contains(to))
                        .map(move |to| format!("{} -> {}", show(from), show(to)))
                })
                .collect();
            format!(
                "{}\n    ({})",
                c.iter().map(|m| show(m)).collect::<Vec<_>>().join(" <-> "),
                inside.join(", ")
            )
        })
        .collect();
    assert!(
        described.is_empty(),
        "modules of {} use each other in circles:\n  {}",
        krate.name,
        described.join("\n  ")
    );
}

#[test]
fn no_module_of_the_kiosk_uses_another_that_uses_it_back() {
    assert_acyclic(&Crate::load("estation", &root().join("src")));
}

#[test]
fn no_module_of_the_drivers_uses_another_that_uses_it_back() {
    assert_acyclic(&Crate::load(
        "estation-drivers",
        &root().join("drivers/src"),
    ));
}

#[test]
fn no_module_of_the_central_service_uses_another_that_uses_it_back() {
    assert_acyclic(&Crate::load(
        "estation-central",
        &root().join("central/src"),
    ));
}

/// The session is pure: it names only its own modules, the locale type, the card
/// and scanner drivers' plain event and data types (never a device), and the
/// standard library (and zeroize for personal data).
#[test]
fn the_session_uses_only_itself_the_locale_and_the_device_types() {
    let krate = Crate::load("estation", &root().join("src"));
    let (_, uses) = krate.edges();
    let external_allowed = ["std", "core", "alloc", "zeroize"];
    let offending: Vec<String> = uses
        .iter()
        .filter(|u| u.module.first().is_some_and(|m| m == "session"))
        .filter(|u| {
            let path: Vec<&str> = u.path.iter().map(String::as_str).collect();
            let allowed = match path.as_slice() {
                ["crate", "session", ..] => true,
                ["crate", "i18n", "Locale", ..] => true,
                ["estation_drivers", "card", ..] => true,
                [
                    "estation_drivers",
                    "scanner",
                    "ScanEvent" | "ScannedCode" | "ScanError",
                    ..,
                ] => true,
                [first, ..] => {
                    external_allowed.contains(first)
                        // A type or enum variant path (`Screen::Services`), or a
                        // primitive type's associated item (`char::from`).
                        || first.chars().next().is_some_and(char::is_uppercase)
                        || ["char", "str", "u8", "u16", "u32", "u64", "usize", "i32", "i64"]
                            .contains(first)
                }
                [] => true,
            };
            !allowed
        })
        .map(|u| format!("{} uses {}", show(&u.module), u.path.join("::")))
        .collect();
    assert!(
        offending.is_empty(),
        "the session must stay pure:\n  {}",
        offending.join("\n  ")
    );
}

/// Speech knows no UI: it works from the view model and the translations, and
/// neither the Slint bridge nor Slint itself.
#[test]
fn speech_knows_no_ui() {
    let krate = Crate::load("estation", &root().join("src"));
    let (_, uses) = krate.edges();
    let offending: Vec<String> = uses
        .iter()
        .filter(|u| u.module.first().is_some_and(|m| m == "speech"))
        .filter(|u| {
            let path: Vec<&str> = u.path.iter().map(String::as_str).collect();
            matches!(
                path.as_slice(),
                ["crate", "ui_bridge" | "cli" | "kiosk", ..] | ["slint" | "i_slint_core", ..]
            )
        })
        .map(|u| format!("{} uses {}", show(&u.module), u.path.join("::")))
        .collect();
    assert!(offending.is_empty(), "{}", offending.join("\n"));
}

/// The library's parts never use the command line, and nothing but the demo's own
/// command uses the demo environment: production code knows nothing of the demo.
#[test]
fn production_code_knows_nothing_of_the_demo_or_the_command_line() {
    let krate = Crate::load("estation", &root().join("src"));
    let (edges, _) = krate.edges();
    let mut offending = Vec::new();
    for (module, targets) in &edges {
        let in_cli = module.first().is_some_and(|m| m == "cli");
        for target in targets {
            let names_cli = target.first().is_some_and(|t| t == "cli");
            let names_demo = target.starts_with(&["cli".to_owned(), "demo_env".to_owned()]);
            let is_demo = module.starts_with(&["cli".to_owned(), "demo".to_owned()])
                || module.starts_with(&["cli".to_owned(), "demo_env".to_owned()]);
            if (!in_cli && names_cli) || (names_demo && !is_demo) {
                offending.push(format!("{} uses {}", show(module), show(target)));
            }
        }
    }
    assert!(offending.is_empty(), "{}", offending.join("\n"));
}

/// The guard can fail: a circle and a forbidden use planted in a scratch crate
/// are found.
#[test]
fn the_guard_finds_circles_and_forbidden_uses() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("session")).unwrap();
    std::fs::create_dir_all(src.join("cli")).unwrap();
    std::fs::write(
        src.join("lib.rs"),
        "pub mod a; pub mod b; pub mod session; pub mod cli;",
    )
    .unwrap();
    std::fs::write(src.join("a.rs"), "use crate::b::B; pub struct A;").unwrap();
    std::fs::write(
        src.join("b.rs"),
        "pub struct B; fn f() -> crate::a::A { crate::a::A }",
    )
    .unwrap();
    std::fs::write(src.join("session/mod.rs"), "use crate::a::A;").unwrap();
    std::fs::write(src.join("cli/mod.rs"), "pub mod demo_env;").unwrap();
    std::fs::write(src.join("cli/demo_env.rs"), "pub struct Switch;").unwrap();
    let krate = Crate::load("scratch", src);
    let (edges, uses) = krate.edges();
    assert_eq!(cycles(&edges).len(), 1);
    assert!(
        uses.iter()
            .any(|u| u.module == ["session"] && u.path == ["crate", "a", "A"])
    );
}
