//! Generation: the instrumented function.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{parse_quote, FnArg, Ident, Pat, Path, ReturnType, Signature, Type};

use crate::args::{Args, Format, Function, Macro, Skip};

/// Expands `#[profile(args)] item`, or returns the user's errors.
pub(crate) fn profile(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let (args, function) = parse(args, item, Macro::Profile)?;
    Ok(instrument(&args, function, None))
}

/// Expands `#[traced(args)] item`, or returns the user's errors.
pub(crate) fn traced(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let (args, function) = parse(args, item, Macro::Traced)?;
    let span = span_parts(&args, &function.sig)?;
    Ok(instrument(&args, function, Some(span)))
}

fn parse(args: TokenStream, item: TokenStream, which: Macro) -> syn::Result<(Args, Function)> {
    // Report a bad argument and a bad item together rather than one per build.
    match (
        Args::parse_tokens(args, which),
        Function::parse_tokens(item, which),
    ) {
        (Ok(args), Ok(function)) => Ok((args, function)),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            Err(first)
        }
        (Err(err), _) | (_, Err(err)) => Err(err),
    }
}

/// What the declared return type tells the expansion.
enum Output {
    /// No return type, or `()`: nothing to inspect.
    Unit,
    /// `!`: the body never returns normally.
    Never,
    /// A type with `impl Trait` somewhere in it: it cannot be named in a `let`.
    Opaque,
    /// Any other type, used as an inference hint for the body.
    Named,
}

impl Output {
    fn of(output: &ReturnType) -> Self {
        let ReturnType::Type(_, ty) = output else {
            return Self::Unit;
        };
        match strip_groups(ty) {
            Type::Tuple(tuple) if tuple.elems.is_empty() => Self::Unit,
            Type::Never(_) => Self::Never,
            _ if contains_impl_trait(ty) => Self::Opaque,
            _ => Self::Named,
        }
    }
}

/// Looks through parentheses and the invisible groups `macro_rules!` adds
/// around `$t:ty`.
fn strip_groups(mut ty: &Type) -> &Type {
    loop {
        match ty {
            Type::Group(group) => ty = &group.elem,
            Type::Paren(paren) => ty = &paren.elem,
            _ => return ty,
        }
    }
}

fn contains_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    finder.visit_type(ty);
    finder.0
}

fn instrument(args: &Args, function: Function, span: Option<SpanParts>) -> TokenStream {
    let Function {
        attrs,
        vis,
        defaultness,
        sig,
        inner_attrs,
        stmts,
    } = function;
    let krate: Path = args
        .krate
        .clone()
        .unwrap_or_else(|| parse_quote!(::monitor));
    let private = quote!(#krate::__private);
    let name = args.name.as_ref().map_or_else(
        || {
            let ident = sig.ident.unraw().to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #ident))
        },
        |name| quote!(#name),
    );
    let budget_ns = Literal::u64_suffixed(args.budget_ns.unwrap_or(0));
    let is_async = sig.asyncness.is_some();
    let output = Output::of(&sig.output);

    let parts = Parts {
        callsite: quote! {
            static __MONITOR_CALLSITE: #private::Callsite =
                #private::Callsite::new(#name, ::core::module_path!(), #budget_ns, #is_async);
        },
        outcome_traits: quote! {
            #[allow(unused_imports)]
            use #private::{OtherOutcome as _, ResultOutcome as _};
        },
        type_hint: type_hint(&sig, &output),
        stmts,
        span,
        private,
    };
    let body = if is_async {
        async_body(&parts, &output)
    } else {
        sync_body(&parts, &output)
    };

    quote! {
        #(#attrs)*
        #vis #defaultness #sig {
            #(#inner_attrs)*
            #body
        }
    }
}

/// The pieces both kinds of body are made of.
struct Parts {
    /// `#krate::__private`.
    private: TokenStream,
    /// The `static __MONITOR_CALLSITE`.
    callsite: TokenStream,
    /// The `use` that brings `__monitor_is_err` into scope.
    outcome_traits: TokenStream,
    /// See [`type_hint`].
    type_hint: TokenStream,
    /// The original body's statements.
    stmts: TokenStream,
    /// The span's pieces, for `#[traced]`.
    span: Option<SpanParts>,
}

/// An unreachable `return` of the declared type, so that `?`, `.into()` and
/// `Default::default()` in the body infer as they would in the function
/// itself. Also for `()`: `fn f() { Default::default() }` relies on it. Left
/// out for `impl Trait`, which cannot be named, and `!`, which cannot be
/// written in a `let` on stable Rust.
fn type_hint(sig: &syn::Signature, output: &Output) -> TokenStream {
    let (ty, span) = match (output, &sig.output) {
        (Output::Named | Output::Unit, ReturnType::Type(_, ty)) => (quote!(#ty), ty.span()),
        (Output::Unit, ReturnType::Default) => (quote!(()), sig.ident.span()),
        (Output::Never | Output::Opaque | Output::Named, _) => return TokenStream::new(),
    };
    quote_spanned! {span=>
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let __monitor_type_hint: #ty = loop {};
            return __monitor_type_hint;
        }
    }
}

/// What `#[traced]` adds to the body: the attributes to record and how to
/// end the span.
struct SpanParts {
    /// `__monitor_span.record_debug("a", &a);` for each recorded parameter,
    /// then each `fields` entry; empty when there is nothing to record.
    records: TokenStream,
    /// `err`: the keyword's span, where a non-`Display` error is reported.
    err: Option<Span>,
}

/// Checks `#[traced]`'s arguments against the signature and builds the
/// recording statements.
fn span_parts(args: &Args, sig: &Signature) -> syn::Result<SpanParts> {
    let params: Vec<&Ident> = sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(pat) => Some(&pat.ident),
                // Destructuring patterns have no single name: skipped.
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect();
    let skipped: Vec<&Ident> = match &args.skip {
        Some(Skip::Some(names)) => {
            for name in names {
                let exists = if name == "self" {
                    sig.receiver().is_some()
                } else {
                    params.iter().any(|param| param.unraw() == name.unraw())
                };
                if !exists {
                    return Err(syn::Error::new(
                        name.span(),
                        format!(
                            "`skip` names `{}`, which is not a parameter of `{}`",
                            name.unraw(),
                            sig.ident.unraw()
                        ),
                    ));
                }
            }
            names.iter().collect()
        }
        Some(Skip::All) => params.clone(),
        None => Vec::new(),
    };
    if let Some(err) = args.err {
        if !returns_result(&sig.output) {
            return Err(syn::Error::new(
                err,
                format!(
                    "`err` records the error of a `Result`, but `{}` does not return a type named `Result`",
                    sig.ident.unraw()
                ),
            ));
        }
    }
    let fields = args.fields.as_deref().unwrap_or_default();
    let recorded_params = params.into_iter().filter(|param| {
        let name = param.unraw().to_string();
        // A field of the same name replaces the parameter, as in `tracing`.
        !skipped.iter().any(|skip| skip.unraw() == name)
            && !fields.iter().any(|field| field.key == name)
    });
    let mut records = TokenStream::new();
    for param in recorded_params {
        let key = param.unraw().to_string();
        records.extend(quote_spanned! {user_located(param.span())=>
            __monitor_span.record_debug(#key, &#param);
        });
    }
    for field in fields {
        let key = &field.key;
        let value = &field.value;
        let span = user_located(value.span());
        records.extend(match field.format {
            Format::Display => quote_spanned! {span=>
                __monitor_span.record_display(#key, &(#value));
            },
            Format::Debug => quote_spanned! {span=>
                __monitor_span.record_debug(#key, &(#value));
            },
        });
    }
    Ok(SpanParts {
        records,
        err: args.err.map(user_located),
    })
}

/// A span that points at the user's token, so errors (a parameter that is
/// not `Debug`) land there, but resolves names at the call site like the rest
/// of the expansion, so `__monitor_span` is found even when the token comes
/// from a `macro_rules!` expansion.
fn user_located(span: Span) -> Span {
    Span::call_site().located_at(span)
}

/// Whether the declared return type is syntactically a `Result` (its last
/// path segment is `Result`: `io::Result<T>` and aliases named so count).
fn returns_result(output: &ReturnType) -> bool {
    let ReturnType::Type(_, ty) = output else {
        return false;
    };
    match strip_groups(ty) {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Result"),
        _ => false,
    }
}

impl SpanParts {
    /// Starts the span (`enter` for a sync function, `start` for an async
    /// one) and records the attributes, before the body takes the arguments.
    fn start(&self, private: &TokenStream, is_async: bool) -> TokenStream {
        let start = if is_async {
            quote!(#private::SpanGuard::start(&__MONITOR_CALLSITE))
        } else {
            quote!(#private::SpanGuard::enter(&__MONITOR_CALLSITE))
        };
        let records = &self.records;
        if records.is_empty() {
            return quote!(let __monitor_span = #start;);
        }
        quote! {
            let mut __monitor_span = #start;
            // Formatted only when recording, while the arguments are still
            // borrowed from the caller's frame.
            #[allow(unused_parens, clippy::double_parens)]
            if __monitor_span.is_recording() {
                #records
            }
        }
    }

    /// Ends the span after a body that returned `__monitor_ret`, an `Err`
    /// when `__monitor_is_err`, at `end` (an `Option` of a clock reading).
    fn exit(&self, end: &TokenStream) -> TokenStream {
        match self.err {
            Some(err) => quote_spanned! {err=>
                __monitor_span.exit_at(#end, ::core::option::Option::map(
                    ::core::result::Result::as_ref(&__monitor_ret).err(),
                    |__monitor_err| __monitor_err as &dyn ::core::fmt::Display,
                ));
            },
            None => quote! {
                if __monitor_is_err {
                    __monitor_span.exit_with_error_at(#end);
                } else {
                    __monitor_span.exit_at(#end, ::core::option::Option::None);
                }
            },
        }
    }
}

/// A synchronous body: the body as a closure, so that `return` and `?` end
/// the closure rather than skip `exit`, called at once when recording is off
/// (one relaxed load, nothing else), else inside a `Call` guard.
///
/// With a span, the span is entered first. If recording is switched off
/// between `SpanGuard::enter` and the check, the fast path drops the guard,
/// which records the span as "cancelled"; a guard that is not recording (the
/// usual case when off) drops as a no-op.
fn sync_body(parts: &Parts, output: &Output) -> TokenStream {
    let Parts {
        private,
        callsite,
        outcome_traits,
        type_hint,
        stmts,
        span,
    } = parts;
    let body = match output {
        Output::Never => quote!(#private::fn_once(move || -> ! { #stmts })),
        _ => quote!(#private::fn_once(move || { #type_hint #stmts })),
    };
    let span_start = span.as_ref().map(|span| span.start(private, false));
    // With a span, the call and the span share their two clock readings.
    let call_enter = match span {
        Some(_) => {
            quote!(#private::Call::enter_at(&__MONITOR_CALLSITE, __monitor_span.start_ticks()))
        }
        None => quote!(#private::Call::enter(&__MONITOR_CALLSITE)),
    };
    let end = quote!(__monitor_end);
    let call_exit = |is_err: TokenStream| match span {
        Some(_) => quote!(let __monitor_end = __monitor_call.exit_timed(#is_err);),
        None => quote!(__monitor_call.exit(#is_err);),
    };
    let fast_path = quote! {
        #callsite
        #span_start
        let __monitor_body = #body;
        if !#private::is_enabled() {
            return __monitor_body();
        }
        let __monitor_call = #call_enter;
    };
    match output {
        Output::Unit => {
            let span_exit = span
                .as_ref()
                .map(|_| quote!(__monitor_span.exit_at(#end, ::core::option::Option::None);));
            let call_exit = call_exit(quote!(false));
            quote! {
                #fast_path
                __monitor_body();
                #call_exit
                #span_exit
            }
        }
        // Never exits normally: a panic is recorded when the guards drop.
        // (No fast path: `return` of a diverging call is unreachable code.)
        Output::Never => quote! {
            #callsite
            #span_start
            let __monitor_body = #body;
            let __monitor_call = #private::Call::enter(&__MONITOR_CALLSITE);
            __monitor_body()
        },
        Output::Named | Output::Opaque => {
            let span_exit = span.as_ref().map(|span| span.exit(&end));
            let call_exit = call_exit(quote!(__monitor_is_err));
            quote! {
                #fast_path
                #outcome_traits
                let __monitor_ret = __monitor_body();
                let __monitor_is_err = (&__monitor_ret).__monitor_is_err();
                #call_exit
                #span_exit
                __monitor_ret
            }
        }
    }
}

/// An `async fn` body: the body as an inner `async` block, inside a future
/// that reports whether it returned an `Err`, inside `Instrumented`, which
/// times each poll. No guard is held across `.await`.
///
/// With a span, the span is started (not entered) before the first poll,
/// `WithContext` makes it current around each poll, and it ends after the
/// body; a future dropped before then records it as "cancelled".
fn async_body(parts: &Parts, output: &Output) -> TokenStream {
    let Parts {
        private,
        callsite,
        outcome_traits,
        type_hint,
        stmts,
        span,
    } = parts;
    let span_start = span.as_ref().map(|span| span.start(private, true));
    let with_context = |future: TokenStream| match span {
        Some(_) => quote!(#private::WithContext::new(__monitor_span.context(), #future)),
        None => future,
    };
    match output {
        Output::Unit => {
            let future = with_context(quote! {
                async move {
                    (async move { #type_hint #stmts }.await, false)
                }
            });
            let span_exit = span
                .as_ref()
                .map(|_| quote!(__monitor_span.exit(::core::option::Option::None);));
            quote! {
                #callsite
                #span_start
                #private::Instrumented::new(&__MONITOR_CALLSITE, #future).await;
                #span_exit
            }
        }
        // The body's type falls back to `()` before edition 2024 and to `!`
        // from it, so it is never named; the call cannot complete normally.
        Output::Never => {
            let future = with_context(quote! {
                async move {
                    #[allow(unreachable_code, clippy::let_unit_value)]
                    let __monitor_ret = async move { #stmts }.await;
                    #[allow(unreachable_code)]
                    (__monitor_ret, false)
                }
            });
            quote! {
                #callsite
                #span_start
                #[allow(unreachable_code, clippy::let_unit_value)]
                let __monitor_never = #private::Instrumented::new(&__MONITOR_CALLSITE, #future).await;
                #[allow(unreachable_code)]
                ::core::unreachable!()
            }
        }
        // `Instrumented` takes `(output, is_err)` and yields the output, which
        // here is `(value, is_err)` again, for the span to end with.
        Output::Named | Output::Opaque => {
            let future = with_context(quote! {
                async move {
                    let __monitor_ret = async move { #type_hint #stmts }.await;
                    let __monitor_is_err = (&__monitor_ret).__monitor_is_err();
                    ((__monitor_ret, __monitor_is_err), __monitor_is_err)
                }
            });
            let span_exit = span
                .as_ref()
                .map(|span| span.exit(&quote!(::core::option::Option::None)));
            quote! {
                #callsite
                #span_start
                #outcome_traits
                let (__monitor_ret, __monitor_is_err) =
                    #private::Instrumented::new(&__MONITOR_CALLSITE, #future).await;
                #span_exit
                __monitor_ret
            }
        }
    }
}
