//! Records, rules and use cases. Use cases take a `Caller` and typed input and return typed
//! values or an `ApiError`; they never see HTTP, HTML or DynamoDB attribute values.
//!
//! Each use case resolves its caller first (with the route's items, in one BatchGet), then
//! authorizes through `access`, and only then looks at the body: a body that did not parse
//! arrives as `Input::Err` and is reported after the caller is known to be allowed.

// Grouped by area; each module is also reachable at `domain::<name>` (the paths the code uses).
pub mod base;
pub mod mail;
pub mod pages;
pub mod people;
pub mod safety;
pub mod setup;

pub mod attachments;
pub mod automations;
pub mod csat;
pub mod model;
pub mod public_links;
pub mod reports;
pub mod requests;
pub mod search;
pub mod sla;
pub mod tags;
pub mod team;
pub mod webhooks;

pub use base::{access, caller, idempotency, link_token, retry, signing};
pub use mail::{email, emails, inbound, notify, reply_address};
pub use pages::{desk, portal};
pub use people::{auth, authors, organizations, participants};
pub use safety::{audit, blocklist, moderation, rules};
pub use setup::{form_moves, form_values, forms, macros, projects};

/// A body as the channel read it: the value, or why it could not be read.
pub type Input<T> = Result<T, crate::error::ApiError>;

/// For `Option<Option<T>>` fields of a PATCH: a field given (even as null) is `Some`; absent
/// stays `None` by `#[serde(default)]`.
pub(crate) fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// For optional whole-number fields of a body: `3` or `3.0` (JSON Schema's `integer` allows
/// both, and so do clients that only have floats), never `3.5`, a negative or more than `T`
/// holds. Absent stays `None` by `#[serde(default)]`; null is `None` too.
pub(crate) fn whole<'de, D: serde::Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<Option<T>, D::Error> {
    struct Whole<T>(std::marker::PhantomData<T>);
    impl<'de, T: TryFrom<u64>> serde::de::Visitor<'de> for Whole<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            T::try_from(v).map(Some).map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            let v = u64::try_from(v).map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))?;
            self.visit_u64(v)
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            // Whole and within what a double holds exactly.
            if v.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&v) {
                return Err(E::invalid_value(serde::de::Unexpected::Float(v), &self));
            }
            self.visit_u64(v as u64)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: serde::Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(self)
        }
    }
    d.deserialize_option(Whole(std::marker::PhantomData))
}

/// `whole` for a required field: null is refused like any other wrong value.
pub(crate) fn whole_number<'de, D: serde::Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<T, D::Error> {
    whole(d)?.ok_or_else(|| serde::de::Error::custom("a whole number is required"))
}

#[cfg(test)]
mod whole_tests {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Body {
        #[serde(default, deserialize_with = "super::whole")]
        n: Option<u32>,
    }

    #[test]
    fn whole_numbers_may_be_written_as_floats() {
        let read = |json: &str| serde_json::from_str::<Body>(json).map(|b| b.n).map_err(|e| e.to_string());
        assert_eq!(read(r#"{"n": 3}"#), Ok(Some(3)));
        assert_eq!(read(r#"{"n": 3.0}"#), Ok(Some(3)));
        assert_eq!(read(r#"{"n": null}"#), Ok(None));
        assert_eq!(read("{}"), Ok(None));
        for bad in [r#"{"n": 3.5}"#, r#"{"n": -1}"#, r#"{"n": 4294967296}"#, r#"{"n": "3"}"#, r#"{"n": 1e300}"#] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
