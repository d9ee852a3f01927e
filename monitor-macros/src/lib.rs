//! Attribute macros for [`monitor`](https://docs.rs/monitor). Use them through
//! the `monitor` crate (`#[monitor::profile]`, `#[monitor::traced]`), which
//! re-exports them and provides the runtime they expand to.

mod args;
mod expand;

use proc_macro::TokenStream;

/// Profiles every call of a function: count, errors, panics, latency
/// histogram, self time, and calls over an optional budget.
///
/// Works on free functions, methods (`self`, `&self`, `&mut self`), `async fn`,
/// generic functions and `unsafe fn`, whatever they return (`impl Trait` and
/// references borrowed from arguments included). The function keeps its
/// signature, attributes and visibility.
///
/// ```
/// #[monitor::profile]
/// fn parse(input: &str) -> Result<u32, std::num::ParseIntError> {
///     input.trim().parse()
/// }
///
/// struct Cart(Vec<u32>);
///
/// impl Cart {
///     #[monitor::profile(name = "checkout", budget = "50ms")]
///     async fn checkout(&mut self) -> u32 {
///         self.0.drain(..).sum()
///     }
/// }
/// # assert_eq!(parse(" 42 "), Ok(42));
/// ```
///
/// # Arguments
///
/// | Argument | Default | Meaning |
/// |---|---|---|
/// | `name = "checkout"` | `concat!(module_path!(), "::", fn_name)` | the name the function is reported under |
/// | `budget = "50ms"` | none | calls slower than this count as over budget; units `ns`, `us`, `ms`, `s`, `m` (minutes), fractions allowed (`"1.5s"`) |
/// | `crate = path` | `::monitor` | where the `monitor` crate is, for crates that re-export it (`crate = my_sdk::monitor`) |
///
/// An unknown or repeated argument, a malformed budget, or putting the
/// attribute on something other than a function with a body (or on a
/// `const fn`) is a compile error on the offending token.
///
/// # Errors and panics
///
/// A function returning `Result` counts each `Err` as an error (`?` and
/// `return` included). A panic that unwinds through the function is recorded
/// as a panic and keeps unwinding unchanged. An `async fn` dropped before it
/// completes counts as cancelled.
///
/// # What it expands to
///
/// A synchronous function keeps its signature; its body moves into a closure,
/// so that `return` and `?` end the body rather than skip the bookkeeping:
///
/// ```ignore
/// fn parse(input: &str) -> Result<u32, ParseIntError> {
///     static __MONITOR_CALLSITE: ::monitor::__private::Callsite =
///         ::monitor::__private::Callsite::new(
///             concat!(module_path!(), "::", "parse"), // or `name`
///             module_path!(),
///             0,     // `budget` in nanoseconds, 0 = none
///             false, // is_async
///         );
///     let __monitor_body = ::monitor::__private::fn_once(move || {
///         // An unreachable `return` of the declared type, for inference of `?`
///         // (left out when the type contains `impl Trait`).
///         if false {
///             let __monitor_type_hint: Result<u32, ParseIntError> = loop {};
///             return __monitor_type_hint;
///         }
///         input.trim().parse()
///     });
///     // Not recording: one relaxed load, then the body.
///     if !::monitor::__private::is_enabled() {
///         return __monitor_body();
///     }
///     let __monitor_call = ::monitor::__private::Call::enter(&__MONITOR_CALLSITE);
///     use ::monitor::__private::{OtherOutcome as _, ResultOutcome as _};
///     let __monitor_ret = __monitor_body();
///     // `true` only for `Result::Err`, by method resolution.
///     let __monitor_is_err = (&__monitor_ret).__monitor_is_err();
///     __monitor_call.exit(__monitor_is_err);
///     __monitor_ret
/// }
/// ```
///
/// If the body panics, `__monitor_call` is dropped without `exit` and records
/// the panic. A function without a return type calls `exit(false)`.
///
/// An `async fn` stays an `async fn`; its body becomes a future wrapped in
/// `Instrumented`, which times each poll, so no guard lives across `.await`:
///
/// ```ignore
/// async fn checkout(&mut self) -> u32 {
///     static __MONITOR_CALLSITE: ::monitor::__private::Callsite =
///         ::monitor::__private::Callsite::new("checkout", module_path!(), 50_000_000, true);
///     use ::monitor::__private::{OtherOutcome as _, ResultOutcome as _};
///     let (__monitor_ret, __monitor_is_err) =
///         ::monitor::__private::Instrumented::new(&__MONITOR_CALLSITE, async move {
///             let __monitor_ret = async move {
///                 if false {
///                     let __monitor_type_hint: u32 = loop {};
///                     return __monitor_type_hint;
///                 }
///                 self.0.drain(..).sum()
///             }
///             .await;
///             let __monitor_is_err = (&__monitor_ret).__monitor_is_err();
///             // `Instrumented` reads the outer flag; the inner pair is what
///             // `#[traced]` ends its span with.
///             ((__monitor_ret, __monitor_is_err), __monitor_is_err)
///         })
///         .await;
///     __monitor_ret
/// }
/// ```
///
/// With `crate = path`, `path` replaces `::monitor` throughout.
#[proc_macro_attribute]
pub fn profile(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    emit(expand::profile(args.into(), item.clone()), item)
}

/// Records every call of a function as a span (trace id, span id, parent,
/// duration, arguments, error) and everything [`macro@profile`] records.
///
/// A call made while another traced call runs on the same thread (or inside
/// the same `async fn`, across `.await` and threads) is its child; otherwise
/// it starts a new trace, or continues the one made current with
/// `monitor::trace::enter_context` (an incoming request's).
///
/// ```
/// #[derive(Debug)]
/// struct Conn;
///
/// #[monitor::traced(name = "db.query", skip(conn), fields(table = %"users"), err)]
/// async fn load_user(conn: &Conn, id: u64) -> Result<String, std::io::Error> {
///     Ok(format!("user {id}"))
/// }
///
/// #[monitor::traced(budget = "5ms")]
/// fn parse(input: &str) -> Result<u32, std::num::ParseIntError> {
///     input.trim().parse()
/// }
/// # assert_eq!(parse(" 42 "), Ok(42));
/// ```
///
/// # Arguments
///
/// `name`, `budget` and `crate` as for [`macro@profile`], and:
///
/// | Argument | Meaning |
/// |---|---|
/// | `skip(conn, password)` | do not record these parameters |
/// | `skip_all` | record no parameters |
/// | `fields(user = %id, query = ?q, n = len)` | record these too: `%` with `Display`, `?` or nothing with `Debug`; keys may be dotted (`http.method`) |
/// | `err` | record the `Err` value's `Display` text as the span's error (needs a `Result` return type) |
///
/// Every parameter is recorded with `Debug` under its name, except `self`,
/// those in `skip`, those a field of the same name replaces, and destructuring
/// patterns (`(a, b): (u32, u32)`). A parameter whose type is not `Debug` must
/// be skipped. Attribute values are formatted only when the span is being
/// recorded, before the body runs, while the arguments are still borrowed.
///
/// Without `err`, an `Err` return is recorded as the error `"error"`. A
/// panic unwinding through the function records `"panicked"`; an `async fn`
/// dropped before completing records `"cancelled"`.
///
/// An unknown or repeated argument, `skip` naming no parameter, `skip` with
/// `skip_all`, a repeated `fields` key, and `err` on a function whose return
/// type is not (syntactically) a `Result` are compile errors on the offending
/// token, as are the item errors of [`macro@profile`].
///
/// # What it expands to
///
/// [`macro@profile`]'s expansion, with a span around it. A synchronous
/// function:
///
/// ```ignore
/// fn parse(input: &str) -> Result<u32, ParseIntError> {
///     static __MONITOR_CALLSITE: ::monitor::__private::Callsite = /* as for #[profile] */;
///     // Starts a span, child of the current one, and makes it current.
///     let mut __monitor_span = ::monitor::__private::SpanGuard::enter(&__MONITOR_CALLSITE);
///     if __monitor_span.is_recording() {
///         __monitor_span.record_debug("input", &input);
///     }
///     let __monitor_body = ::monitor::__private::fn_once(move || { /* body */ });
///     if !::monitor::__private::is_enabled() {
///         return __monitor_body(); // the span is not recording: dropping it is a no-op
///     }
///     let __monitor_call = ::monitor::__private::Call::enter(&__MONITOR_CALLSITE);
///     use ::monitor::__private::{OtherOutcome as _, ResultOutcome as _};
///     let __monitor_ret = __monitor_body();
///     let __monitor_is_err = (&__monitor_ret).__monitor_is_err();
///     __monitor_call.exit(__monitor_is_err);
///     // With `err`: `__monitor_span.exit(ret.as_ref().err().map(|e| e as &dyn Display))`.
///     if __monitor_is_err {
///         __monitor_span.exit_with_error();
///     } else {
///         __monitor_span.exit(None); // ends the span, restores the parent as current
///     }
///     __monitor_ret
/// }
/// ```
///
/// An `async fn` starts its span without making it current, and wraps the
/// body's future in `WithContext`, which makes the span current around each
/// poll; the span guard is plain data across `.await`, never a thread-local
/// guard:
///
/// ```ignore
/// async fn load_user(conn: &Conn, id: u64) -> Result<String, io::Error> {
///     static __MONITOR_CALLSITE: ::monitor::__private::Callsite = /* ..., true */;
///     let mut __monitor_span = ::monitor::__private::SpanGuard::start(&__MONITOR_CALLSITE);
///     if __monitor_span.is_recording() {
///         __monitor_span.record_debug("id", &id);
///         __monitor_span.record_display("table", &("users"));
///     }
///     use ::monitor::__private::{OtherOutcome as _, ResultOutcome as _};
///     let (__monitor_ret, __monitor_is_err) = ::monitor::__private::Instrumented::new(
///         &__MONITOR_CALLSITE,
///         ::monitor::__private::WithContext::new(__monitor_span.context(), async move {
///             let __monitor_ret = async move { /* body */ }.await;
///             let __monitor_is_err = (&__monitor_ret).__monitor_is_err();
///             ((__monitor_ret, __monitor_is_err), __monitor_is_err)
///         }),
///     )
///     .await;
///     __monitor_span.exit(/* as above */);
///     __monitor_ret
/// }
/// ```
#[proc_macro_attribute]
pub fn traced(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    emit(expand::traced(args.into(), item.clone()), item)
}

/// The expansion, or the errors next to the unchanged item.
fn emit(
    result: syn::Result<proc_macro2::TokenStream>,
    item: proc_macro2::TokenStream,
) -> TokenStream {
    match result {
        Ok(expanded) => expanded.into(),
        Err(err) => {
            // The unchanged item next to the error, so that the error is the
            // only one the user sees.
            let mut out = err.to_compile_error();
            out.extend(item);
            out.into()
        }
    }
}
