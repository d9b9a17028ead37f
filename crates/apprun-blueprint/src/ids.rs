//! Logical ids derived from user-chosen names.

/// `api-v2` → `ApiV2`: a service name as part of a logical id.
pub(crate) fn pascal(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn pascal_case() {
        assert_eq!(super::pascal("web"), "Web");
        assert_eq!(super::pascal("api-v2"), "ApiV2");
    }
}
