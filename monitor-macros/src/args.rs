//! Parsing: the attribute's arguments and the item it is applied to.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{
    braced, parenthesized, Attribute, Expr, Ident, LitStr, Path, Signature, Token, Visibility,
};

mod kw {
    syn::custom_keyword!(name);
    syn::custom_keyword!(budget);
    syn::custom_keyword!(skip);
    syn::custom_keyword!(skip_all);
    syn::custom_keyword!(fields);
    syn::custom_keyword!(err);
}

/// Which attribute is being expanded: it decides the accepted arguments and
/// the name in error messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Macro {
    /// `#[profile]`.
    Profile,
    /// `#[traced]`: `#[profile]` plus a span.
    Traced,
}

impl Macro {
    /// The attribute as users write it, for error messages.
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Self::Profile => "#[profile]",
            Self::Traced => "#[traced]",
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Self::Profile => "`name`, `budget`, `crate`",
            Self::Traced => "`name`, `budget`, `crate`, `skip`, `skip_all`, `fields`, `err`",
        }
    }
}

/// The arguments of `#[profile(...)]` and `#[traced(...)]`.
#[derive(Default)]
pub(crate) struct Args {
    /// `name = "..."`: the name the function is reported under.
    pub(crate) name: Option<LitStr>,
    /// `budget = "50ms"`: the per-call budget in nanoseconds.
    pub(crate) budget_ns: Option<u64>,
    /// `crate = path`: where the `monitor` crate is, instead of `::monitor`.
    pub(crate) krate: Option<Path>,
    /// `skip(a, b)` or `skip_all` (`#[traced]` only).
    pub(crate) skip: Option<Skip>,
    /// `fields(key = %expr, ...)` (`#[traced]` only).
    pub(crate) fields: Option<Vec<Field>>,
    /// `err` (`#[traced]` only): the span of the keyword.
    pub(crate) err: Option<Span>,
}

/// The parameters `#[traced]` leaves out of the span.
pub(crate) enum Skip {
    /// `skip(a, b)`: these, as written.
    Some(Vec<Ident>),
    /// `skip_all`.
    All,
}

/// How a `fields` value is formatted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Format {
    /// `key = %expr`: `Display`.
    Display,
    /// `key = ?expr` or `key = expr`: `Debug`.
    Debug,
}

/// One `key = %expr` of `fields(...)`.
pub(crate) struct Field {
    /// The key, dotted parts joined with `.` (`http.method`).
    pub(crate) key: String,
    /// The span of the whole key, for errors.
    pub(crate) key_span: Span,
    /// `%` or `?` (or nothing).
    pub(crate) format: Format,
    /// The value, evaluated when the span is recording.
    pub(crate) value: Expr,
}

impl Args {
    /// Parses the tokens between the attribute's parentheses.
    pub(crate) fn parse_tokens(tokens: TokenStream, which: Macro) -> syn::Result<Self> {
        (|input: ParseStream<'_>| Self::parse(input, which)).parse2(tokens)
    }

    fn parse(input: ParseStream<'_>, which: Macro) -> syn::Result<Self> {
        let traced = which == Macro::Traced;
        let mut args = Args::default();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::name) {
                let key = input.parse::<kw::name>()?;
                let example = "name = \"checkout\"";
                parse_eq(input, key.span, example)?;
                let lit = parse_str_lit(input, example)?;
                if lit.value().is_empty() {
                    return Err(syn::Error::new(lit.span(), "`name` must not be empty"));
                }
                set_once(&mut args.name, lit, key.span, "name")?;
            } else if lookahead.peek(kw::budget) {
                let key = input.parse::<kw::budget>()?;
                let example = "budget = \"50ms\"";
                parse_eq(input, key.span, example)?;
                let lit = parse_str_lit(input, example)?;
                let nanos = parse_duration_ns(&lit.value()).map_err(|reason| {
                    syn::Error::new(lit.span(), format!("invalid `budget`: {reason}"))
                })?;
                set_once(&mut args.budget_ns, nanos, key.span, "budget")?;
            } else if lookahead.peek(Token![crate]) {
                let key = input.parse::<Token![crate]>()?;
                let example = "crate = my_sdk::monitor";
                parse_eq(input, key.span, example)?;
                if !(input.peek(Token![::]) || input.peek(Ident::peek_any)) {
                    return Err(input.error(format!("expected a path, as in `{example}`")));
                }
                let path = input.call(Path::parse_mod_style)?;
                set_once(&mut args.krate, path, key.span, "crate")?;
            } else if traced && lookahead.peek(kw::skip) {
                let key = input.parse::<kw::skip>()?;
                let names = parse_skip_list(input, key.span)?;
                if matches!(args.skip, Some(Skip::All)) {
                    return Err(syn::Error::new(
                        key.span,
                        "`skip` cannot be combined with `skip_all`, which skips every parameter",
                    ));
                }
                set_once(&mut args.skip, Skip::Some(names), key.span, "skip")?;
            } else if traced && lookahead.peek(kw::skip_all) {
                let key = input.parse::<kw::skip_all>()?;
                if matches!(args.skip, Some(Skip::Some(_))) {
                    return Err(syn::Error::new(
                        key.span,
                        "`skip_all` cannot be combined with `skip`; keep one of them",
                    ));
                }
                set_once(&mut args.skip, Skip::All, key.span, "skip_all")?;
            } else if traced && lookahead.peek(kw::fields) {
                let key = input.parse::<kw::fields>()?;
                let fields = parse_fields(input, key.span)?;
                set_once(&mut args.fields, fields, key.span, "fields")?;
            } else if traced && lookahead.peek(kw::err) {
                let key = input.parse::<kw::err>()?;
                set_once(&mut args.err, key.span, key.span, "err")?;
            } else if input.peek(Ident::peek_any) {
                let unknown = input.call(Ident::parse_any)?;
                return Err(syn::Error::new(
                    unknown.span(),
                    format!(
                        "unknown argument `{unknown}`; expected one of: {}",
                        which.expected()
                    ),
                ));
            } else {
                return Err(lookahead.error());
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

/// Parses the `(a, b)` after `skip`: parameter names, `self` included.
fn parse_skip_list(input: ParseStream<'_>, key: Span) -> syn::Result<Vec<Ident>> {
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            key,
            "expected the parameters to skip, as in `skip(conn, password)`",
        ));
    }
    let content;
    parenthesized!(content in input);
    let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, Ident::parse_any)?;
    let mut seen: Vec<Ident> = Vec::new();
    for name in names {
        if seen.iter().any(|other| other.unraw() == name.unraw()) {
            return Err(syn::Error::new(
                name.span(),
                format!("`{}` is already skipped", name.unraw()),
            ));
        }
        seen.push(name);
    }
    Ok(seen)
}

/// Parses the `(key = %expr, ...)` after `fields`.
fn parse_fields(input: ParseStream<'_>, key: Span) -> syn::Result<Vec<Field>> {
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            key,
            "expected the fields to record, as in `fields(user_id = %id)`",
        ));
    }
    let content;
    parenthesized!(content in input);
    let fields = Punctuated::<Field, Token![,]>::parse_terminated(&content)?;
    let mut seen: Vec<Field> = Vec::new();
    for field in fields {
        if seen.iter().any(|other| other.key == field.key) {
            return Err(syn::Error::new(
                field.key_span,
                format!("duplicate field `{}`", field.key),
            ));
        }
        seen.push(field);
    }
    Ok(seen)
}

impl Parse for Field {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let first = input.call(Ident::parse_any)?;
        let mut key = first.unraw().to_string();
        let mut key_span = first.span();
        while input.peek(Token![.]) {
            input.parse::<Token![.]>()?;
            let part = input.call(Ident::parse_any)?;
            key.push('.');
            key.push_str(&part.unraw().to_string());
            key_span = key_span.join(part.span()).unwrap_or(key_span);
        }
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                key_span,
                format!("expected a value, as in `{key} = %value` (Display) or `{key} = ?value` (Debug)"),
            ));
        }
        input.parse::<Token![=]>()?;
        let format = if input.peek(Token![%]) {
            input.parse::<Token![%]>()?;
            Format::Display
        } else {
            if input.peek(Token![?]) {
                input.parse::<Token![?]>()?;
            }
            Format::Debug
        };
        let value = input.parse()?;
        Ok(Self {
            key,
            key_span,
            format,
            value,
        })
    }
}

/// Parses the `=` after `key`, or fails on `key` with an example.
fn parse_eq(input: ParseStream<'_>, key: Span, example: &str) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>().map(drop)
    } else {
        Err(syn::Error::new(
            key,
            format!("expected a value, as in `{example}`"),
        ))
    }
}

/// Parses a string literal, or fails on the next token with an example.
fn parse_str_lit(input: ParseStream<'_>, example: &str) -> syn::Result<LitStr> {
    if input.peek(LitStr) {
        input.parse()
    } else {
        Err(input.error(format!("expected a string literal, as in `{example}`")))
    }
}

/// Stores an argument's value, or fails on `key` when it was already given.
fn set_once<T>(slot: &mut Option<T>, value: T, key: Span, key_name: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            key,
            format!("duplicate `{key_name}` argument"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// A function the attribute is applied to: a free function, or a method in an
/// `impl` block or with a default body in a trait.
pub(crate) struct Function {
    /// Outer attributes (doc comments included), kept as written.
    pub(crate) attrs: Vec<Attribute>,
    /// The visibility, kept as written.
    pub(crate) vis: Visibility,
    /// `default` of a specializing impl, kept as written.
    pub(crate) defaultness: Option<Token![default]>,
    /// The signature, kept as written.
    pub(crate) sig: Signature,
    /// Inner attributes at the top of the body (`#![allow(..)]`).
    pub(crate) inner_attrs: Vec<Attribute>,
    /// The rest of the body, as written: passed through without being
    /// parsed, so any syntax the compiler accepts works.
    pub(crate) stmts: TokenStream,
}

impl Function {
    /// Parses the annotated item.
    pub(crate) fn parse_tokens(tokens: TokenStream, which: Macro) -> syn::Result<Self> {
        (|input: ParseStream<'_>| Self::parse(input, which)).parse2(tokens)
    }

    fn parse(input: ParseStream<'_>, which: Macro) -> syn::Result<Self> {
        let attribute = which.attribute();
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let defaultness: Option<Token![default]> =
            if input.peek(Token![default]) && !input.peek2(Token![!]) {
                input.parse()?
            } else {
                None
            };
        if input.fork().parse::<Signature>().is_err() {
            return Err(not_a_function(input, attribute));
        }
        let sig: Signature = input.parse()?;
        if let Some(constness) = &sig.constness {
            return Err(syn::Error::new(
                constness.span,
                format!("`{attribute}` cannot be applied to a `const fn`: timing a call is not possible in const evaluation"),
            ));
        }
        if input.peek(Token![;]) {
            return Err(syn::Error::new(
                sig.ident.span(),
                format!("`{attribute}` needs a function body; put it on the implementation, not on the declaration"),
            ));
        }
        let body;
        braced!(body in input);
        let inner_attrs = body.call(Attribute::parse_inner)?;
        let stmts = body.parse()?;
        Ok(Self {
            attrs,
            vis,
            defaultness,
            sig,
            inner_attrs,
            stmts,
        })
    }
}

/// The error for an item that is not a function, on the item's keyword and name
/// (`struct Point`).
fn not_a_function(input: ParseStream<'_>, attribute: &str) -> syn::Error {
    let message = format!("`{attribute}` can only be applied to functions");
    let keyword = input.cursor().token_tree().map(|(token, _)| token);
    let name = input
        .cursor()
        .token_tree()
        .and_then(|(_, rest)| rest.ident())
        .map(|(ident, _): (Ident, _)| ident);
    match (keyword, name) {
        (Some(keyword), Some(name)) => {
            syn::Error::new_spanned(quote::quote!(#keyword #name), message)
        }
        (Some(keyword), None) => syn::Error::new_spanned(keyword, message),
        _ => input.error(message),
    }
}

/// Unit suffixes and their length in nanoseconds, longest suffix first so
/// that `ms` is not read as `m`.
const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
];

/// Parses a duration such as `"50ms"`, `"1.5s"` or `"2m"` into nanoseconds.
///
/// The number may have a fractional part and `_` separators; the unit is one
/// of `ns`, `us` (or `µs`), `ms`, `s`, `m` (minutes) and may follow a space.
/// Zero, fractions of a nanosecond and durations past `u64::MAX` nanoseconds
/// are refused. The error is a sentence that says how to fix the literal.
pub(crate) fn parse_duration_ns(text: &str) -> Result<u64, String> {
    const HINT: &str = "expected a number followed by one of ns, us, ms, s, m, as in \"50ms\"";
    if text.trim().is_empty() {
        return Err(format!("the duration is empty; {HINT}"));
    }
    let number_len = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(text.len());
    let (number, rest) = text.split_at(number_len);
    let unit = rest.strip_prefix(' ').unwrap_or(rest);
    if !number.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("`{text}` does not start with a number; {HINT}"));
    }
    if unit.is_empty() {
        return Err(format!(
            "`{text}` has no unit; add one of ns, us, ms, s, m, as in \"{number}ms\""
        ));
    }
    let Some(&(_, unit_ns)) = UNITS.iter().find(|(suffix, _)| *suffix == unit) else {
        return Err(format!(
            "unknown unit `{unit}` in `{text}`; use one of ns, us, ms, s, m"
        ));
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |part: &str| part.chars().filter(|&c| c != '_').collect::<String>();
    let (whole, fraction) = (digits(whole), digits(fraction));
    if number.ends_with(['.', '_'])
        || number.contains("._")
        || number.contains("_.")
        || fraction.contains('.')
    {
        return Err(format!("`{text}` is not a valid number; {HINT}"));
    }
    let too_large = || {
        format!(
            "`{text}` is too large; the longest budget is {} ns (about 584 years)",
            u64::MAX
        )
    };
    let whole: u128 = whole.parse().map_err(|_| too_large())?;
    let mut nanos = whole.checked_mul(unit_ns).ok_or_else(too_large)?;
    if !fraction.is_empty() {
        // Exact integer arithmetic: fraction * unit / 10^len must be whole.
        let scale = u32::try_from(fraction.len())
            .ok()
            .and_then(|len| 10u128.checked_pow(len))
            .ok_or_else(|| format!("`{text}` has more decimals than a nanosecond can resolve"))?;
        let fraction: u128 = fraction.parse().map_err(|_| too_large())?;
        let scaled = fraction.checked_mul(unit_ns).ok_or_else(too_large)?;
        if scaled % scale != 0 {
            return Err(format!("`{text}` is not a whole number of nanoseconds"));
        }
        nanos = nanos.checked_add(scaled / scale).ok_or_else(too_large)?;
    }
    if nanos == 0 {
        return Err(format!("`{text}` is zero; omit `budget` for no budget"));
    }
    u64::try_from(nanos).map_err(|_| too_large())
}

#[cfg(test)]
mod args_tests {
    use super::{Args, Format, Function, Macro, Skip};
    use quote::quote;

    fn args(tokens: proc_macro2::TokenStream) -> syn::Result<Args> {
        Args::parse_tokens(tokens, Macro::Profile)
    }

    fn traced(tokens: proc_macro2::TokenStream) -> syn::Result<Args> {
        Args::parse_tokens(tokens, Macro::Traced)
    }

    #[test]
    fn empty_and_full() {
        let none = args(quote!()).expect("no arguments");
        assert!(none.name.is_none() && none.budget_ns.is_none() && none.krate.is_none());

        let all = args(quote!(
            crate = ::my_sdk::monitor,
            budget = "2ms",
            name = "n",
        ))
        .expect("all arguments, any order, trailing comma");
        assert_eq!(all.name.map(|lit| lit.value()).as_deref(), Some("n"));
        assert_eq!(all.budget_ns, Some(2_000_000));
        let krate = all.krate.expect("crate");
        assert_eq!(
            quote!(#krate).to_string(),
            quote!(::my_sdk::monitor).to_string()
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let message = |tokens| args(tokens).err().map(|err| err.to_string());
        assert_eq!(
            message(quote!(name = "a", name = "b")).as_deref(),
            Some("duplicate `name` argument")
        );
        assert_eq!(
            message(quote!(level = "info")).as_deref(),
            Some("unknown argument `level`; expected one of: `name`, `budget`, `crate`")
        );
        assert_eq!(
            message(quote!(name = "a",,)).as_deref(),
            Some("expected one of: `name`, `budget`, `crate`")
        );
        let budget = message(quote!(budget = "5")).unwrap_or_default();
        assert!(
            budget.starts_with("invalid `budget`: `5` has no unit"),
            "{budget}"
        );
    }

    #[test]
    fn functions_with_and_without_bodies() {
        let function = Function::parse_tokens(
            quote! {
            /// Docs.
                pub(crate) async unsafe fn f<T>(x: T) -> T where T: Copy { #![allow(unused)] x }
            },
            Macro::Profile,
        )
        .expect("a function");
        assert_eq!(function.attrs.len(), 1);
        assert_eq!(function.inner_attrs.len(), 1);
        assert_eq!(function.stmts.to_string(), "x");

        let message = |tokens| {
            Function::parse_tokens(tokens, Macro::Profile)
                .err()
                .map(|err| err.to_string())
        };
        assert_eq!(
            message(quote!(
                struct S;
            ))
            .as_deref(),
            Some("`#[profile]` can only be applied to functions")
        );
        assert!(message(quote!(
            const fn f() {}
        ))
        .is_some_and(|m| m.contains("`const fn`")));
        assert!(message(quote!(
            fn f();
        ))
        .is_some_and(|m| m.contains("needs a function body")));
    }

    #[test]
    fn traced_arguments() {
        let all = traced(quote!(
            name = "n",
            skip(conn, r#type),
            fields(user.id = %id, query = ?q, n = items.len()),
            err,
        ))
        .expect("all traced arguments");
        let Some(Skip::Some(skipped)) = &all.skip else {
            panic!("skip(..)");
        };
        assert_eq!(skipped.len(), 2);
        let fields = all.fields.expect("fields");
        let summary: Vec<(&str, Format)> = fields
            .iter()
            .map(|field| (field.key.as_str(), field.format))
            .collect();
        assert_eq!(
            summary,
            [
                ("user.id", Format::Display),
                ("query", Format::Debug),
                ("n", Format::Debug)
            ]
        );
        assert!(all.err.is_some());
        assert!(matches!(
            traced(quote!(skip_all)).expect("skip_all").skip,
            Some(Skip::All)
        ));
    }

    #[test]
    fn traced_errors_name_the_problem() {
        let message = |tokens| traced(tokens).err().map(|err| err.to_string());
        assert_eq!(
            message(quote!(skip(a), skip_all)).as_deref(),
            Some("`skip_all` cannot be combined with `skip`; keep one of them")
        );
        assert_eq!(
            message(quote!(skip_all, skip(a))).as_deref(),
            Some("`skip` cannot be combined with `skip_all`, which skips every parameter")
        );
        assert_eq!(
            message(quote!(skip(a, a))).as_deref(),
            Some("`a` is already skipped")
        );
        assert_eq!(
            message(quote!(err, err)).as_deref(),
            Some("duplicate `err` argument")
        );
        assert_eq!(
            message(quote!(fields(a = 1, a = %2))).as_deref(),
            Some("duplicate field `a`")
        );
        assert_eq!(
            message(quote!(fields(a))).as_deref(),
            Some("expected a value, as in `a = %value` (Display) or `a = ?value` (Debug)")
        );
        assert_eq!(
            message(quote!(level = "info")).as_deref(),
            Some("unknown argument `level`; expected one of: `name`, `budget`, `crate`, `skip`, `skip_all`, `fields`, `err`")
        );
        // `#[profile]` does not take `#[traced]`'s arguments.
        assert_eq!(
            args(quote!(skip_all))
                .err()
                .map(|err| err.to_string())
                .as_deref(),
            Some("unknown argument `skip_all`; expected one of: `name`, `budget`, `crate`")
        );
        assert!(Function::parse_tokens(
            quote!(
                struct S;
            ),
            Macro::Traced
        )
        .err()
        .is_some_and(|err| err.to_string() == "`#[traced]` can only be applied to functions"));
    }
}

#[cfg(test)]
mod duration_tests {
    use super::parse_duration_ns as parse;

    #[test]
    fn every_unit() {
        assert_eq!(parse("7ns"), Ok(7));
        assert_eq!(parse("7us"), Ok(7_000));
        assert_eq!(parse("7µs"), Ok(7_000));
        assert_eq!(parse("50ms"), Ok(50_000_000));
        assert_eq!(parse("3s"), Ok(3_000_000_000));
        assert_eq!(parse("2m"), Ok(120_000_000_000));
    }

    #[test]
    fn separators_spaces_and_fractions() {
        assert_eq!(parse("1_000ms"), Ok(1_000_000_000));
        assert_eq!(parse("50 ms"), Ok(50_000_000));
        assert_eq!(parse("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse("0.25ms"), Ok(250_000));
        assert_eq!(parse("2.000001ms"), Ok(2_000_001));
        assert_eq!(parse("0.5m"), Ok(30_000_000_000));
    }

    #[test]
    fn largest_budget() {
        assert_eq!(parse(&format!("{}ns", u64::MAX)), Ok(u64::MAX));
        assert!(parse(&format!("{}ns", u128::from(u64::MAX) + 1)).is_err());
        assert!(parse("999999999999999999999999999999999999999999s").is_err());
        assert!(parse("1000000000m").is_err());
    }

    #[test]
    fn missing_or_unknown_unit() {
        let err = parse("50").expect_err("50");
        assert!(err.contains("has no unit"), "{err}");
        assert!(err.contains("\"50ms\""), "{err}");
        let err = parse("50sec").expect_err("50sec");
        assert!(err.contains("unknown unit `sec`"), "{err}");
        assert!(parse("50 MS").is_err());
        assert!(parse("50h").is_err());
        assert!(parse("50  ms").is_err());
        assert!(parse("50ms ").is_err());
    }

    #[test]
    fn malformed_numbers() {
        assert!(parse("").is_err());
        assert!(parse("   ").is_err());
        assert!(parse("ms").is_err());
        assert!(parse("-5ms").is_err());
        assert!(parse("+5ms").is_err());
        assert!(parse(" 5ms").is_err());
        assert!(parse(".5s").is_err());
        assert!(parse("_5s").is_err());
        assert!(parse("5.s").is_err());
        assert!(parse("5_s").is_err());
        assert!(parse("1.2.3s").is_err());
        assert!(parse("1._5s").is_err());
    }

    #[test]
    fn zero_and_sub_nanosecond() {
        let err = parse("0ms").expect_err("0ms");
        assert!(err.contains("zero"), "{err}");
        assert!(parse("0.0s").is_err());
        let err = parse("1.5ns").expect_err("1.5ns");
        assert!(err.contains("whole number of nanoseconds"), "{err}");
        assert!(parse("0.0000000001s").is_err());
        assert!(parse(&format!("1.{}s", "0".repeat(60))).is_err());
    }
}
