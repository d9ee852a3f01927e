//! Generation: the instrumented function.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{parse_quote, Path, ReturnType, Type};

use crate::args::{Args, Function};

/// Expands `#[profile(args)] item`, or returns the user's errors.
pub(crate) fn profile(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    // Report a bad argument and a bad item together rather than one per build.
    let (args, function) = match (Args::parse_tokens(args), Function::parse_tokens(item)) {
        (Ok(args), Ok(function)) => (args, function),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            return Err(first);
        }
        (Err(err), _) | (_, Err(err)) => return Err(err),
    };
    Ok(instrument(&args, function))
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

fn instrument(args: &Args, function: Function) -> TokenStream {
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

/// A synchronous body: the body as a closure, so that `return` and `?` end
/// the closure rather than skip `exit`, called at once when recording is off
/// (one relaxed load, nothing else), else inside a `Call` guard.
fn sync_body(parts: &Parts, output: &Output) -> TokenStream {
    let Parts {
        private,
        callsite,
        outcome_traits,
        type_hint,
        stmts,
    } = parts;
    let body = match output {
        Output::Never => quote!(#private::fn_once(move || -> ! { #stmts })),
        _ => quote!(#private::fn_once(move || { #type_hint #stmts })),
    };
    let fast_path = quote! {
        #callsite
        let __monitor_body = #body;
        if !#private::is_enabled() {
            return __monitor_body();
        }
        let __monitor_call = #private::Call::enter(&__MONITOR_CALLSITE);
    };
    match output {
        Output::Unit => quote! {
            #fast_path
            __monitor_body();
            __monitor_call.exit(false);
        },
        // Never exits normally: a panic is recorded when the guard drops.
        // (No fast path: `return` of a diverging call is unreachable code.)
        Output::Never => quote! {
            #callsite
            let __monitor_body = #body;
            let __monitor_call = #private::Call::enter(&__MONITOR_CALLSITE);
            __monitor_body()
        },
        Output::Named | Output::Opaque => quote! {
            #fast_path
            #outcome_traits
            let __monitor_ret = __monitor_body();
            let __monitor_is_err = (&__monitor_ret).__monitor_is_err();
            __monitor_call.exit(__monitor_is_err);
            __monitor_ret
        },
    }
}

/// An `async fn` body: the body as an inner `async` block, inside a future
/// that reports whether it returned an `Err`, inside `Instrumented`, which
/// times each poll. No guard is held across `.await`.
fn async_body(parts: &Parts, output: &Output) -> TokenStream {
    let Parts {
        private,
        callsite,
        outcome_traits,
        type_hint,
        stmts,
    } = parts;
    match output {
        Output::Unit => quote! {
            #callsite
            #private::Instrumented::new(&__MONITOR_CALLSITE, async move {
                (async move { #type_hint #stmts }.await, false)
            })
            .await
        },
        // The body's type falls back to `()` before edition 2024 and to `!`
        // from it, so it is never named; the call cannot complete normally.
        Output::Never => quote! {
            #callsite
            #[allow(unreachable_code, clippy::let_unit_value)]
            let __monitor_never = #private::Instrumented::new(&__MONITOR_CALLSITE, async move {
                #[allow(unreachable_code, clippy::let_unit_value)]
                let __monitor_ret = async move { #stmts }.await;
                #[allow(unreachable_code)]
                (__monitor_ret, false)
            })
            .await;
            #[allow(unreachable_code)]
            ::core::unreachable!()
        },
        Output::Named | Output::Opaque => quote! {
            #callsite
            #outcome_traits
            #private::Instrumented::new(&__MONITOR_CALLSITE, async move {
                let __monitor_ret = async move { #type_hint #stmts }.await;
                let __monitor_is_err = (&__monitor_ret).__monitor_is_err();
                (__monitor_ret, __monitor_is_err)
            })
            .await
        },
    }
}
