//! Templates in WGSL files: a body written once and instantiated under several names,
//! where WGSL itself has no generics. In a shader file,
//!
//! ```text
//! // #template direct16($name, $weight_at)
//! fn $name(k: u32, id: u32) { ... $weight_at(o, i, tap, kk) ... }
//! // #end
//! // #instance direct16(direct16, weight_at)
//! // #instance direct16(direct16_uniform, weight_uniform_at)
//! ```
//!
//! drops the template's lines and puts at each `#instance` line the body with every
//! parameter replaced by the instance's argument (as text: `$name_k3` becomes
//! `direct16_k3`). A parameter starts with `$`, which WGSL does not allow, so a body
//! that escapes expansion fails to compile. Files without templates pass unchanged.

use std::collections::HashMap;

const TEMPLATE: &str = "// #template ";
const END: &str = "// #end";
const INSTANCE: &str = "// #instance ";

struct Template<'a> {
    params: Vec<&'a str>,
    body: Vec<&'a str>,
}

/// `source` with its templates expanded. Panics on a malformed directive: shader files
/// are part of the program, and every one is expanded and validated in a unit test.
pub(crate) fn expand(source: &str) -> String {
    let mut templates: HashMap<&str, Template<'_>> = HashMap::new();
    let mut rest = Vec::new();
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        let Some(header) = line.trim().strip_prefix(TEMPLATE) else {
            rest.push(line);
            continue;
        };
        let (name, params) = call(header);
        let mut body = Vec::new();
        loop {
            match lines.next() {
                Some(l) if l.trim() == END => break,
                Some(l) => body.push(l),
                None => panic!("WGSL #template {name}: no {END:?} before the end of the file"),
            }
        }
        let earlier = templates.insert(name, Template { params, body });
        assert!(earlier.is_none(), "WGSL #template {name} is defined twice");
    }
    let mut out = String::with_capacity(source.len());
    for line in rest {
        match line.trim().strip_prefix(INSTANCE) {
            None => out.push_str(line),
            Some(instance) => {
                let (name, args) = call(instance);
                let t = templates
                    .get(name)
                    .unwrap_or_else(|| panic!("WGSL #instance of unknown template {name:?}"));
                assert_eq!(
                    t.params.len(),
                    args.len(),
                    "WGSL #instance {instance:?}: template {name} takes {:?}",
                    t.params
                );
                out.push_str(&instantiate(t, &args));
            }
        }
        out.push('\n');
    }
    out
}

/// `name(a, b, ...)` split into the name and the comma-separated arguments.
fn call(text: &str) -> (&str, Vec<&str>) {
    let parts = text
        .trim()
        .split_once('(')
        .and_then(|(name, args)| Some((name, args.strip_suffix(')')?)));
    let Some((name, args)) = parts else {
        panic!("WGSL template directive {text:?}: expected name(a, b, ...)");
    };
    (name.trim(), args.split(',').map(str::trim).collect())
}

fn instantiate(t: &Template<'_>, args: &[&str]) -> String {
    let mut body = t.body.join("\n");
    // Longest first, so that a parameter that begins another is not replaced inside it.
    let mut pairs: Vec<_> = t.params.iter().zip(args).collect();
    pairs.sort_by_key(|(param, _)| std::cmp::Reverse(param.len()));
    for (param, arg) in pairs {
        body = body.replace(param, arg);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_instance_is_the_body_with_its_arguments() {
        let source = "\
const A: u32 = 1u;
// #template twice($f, $f_inner)
fn $f() -> u32 { return $f_inner() * 2u; }
// #end
// #instance twice(double_a, a)
fn a() -> u32 { return A; }
// #instance twice(double_b, b)
";
        assert_eq!(
            expand(source),
            "\
const A: u32 = 1u;
fn double_a() -> u32 { return a() * 2u; }
fn a() -> u32 { return A; }
fn double_b() -> u32 { return b() * 2u; }
"
        );
    }

    #[test]
    fn a_file_without_templates_is_unchanged() {
        let source = "fn f() {}\n\n// a comment\n";
        assert_eq!(expand(source), source);
    }

    #[test]
    #[should_panic(expected = "unknown template")]
    fn an_instance_of_an_unknown_template_is_refused() {
        expand("// #instance missing(a)\n");
    }

    #[test]
    #[should_panic(expected = "no \"// #end\"")]
    fn a_template_without_its_end_is_refused() {
        expand("// #template t($x)\nfn $x() {}\n");
    }

    #[test]
    #[should_panic(expected = "defined twice")]
    fn a_template_defined_twice_is_refused() {
        expand("// #template t($x)\n// #end\n// #template t($y)\n// #end\n");
    }
}
