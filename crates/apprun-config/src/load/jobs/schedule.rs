//! EventBridge Scheduler's schedule expressions: `cron(...)`, `rate(...)`
//! and `at(...)`, checked as the service checks them (EventBridge User
//! Guide, "Cron expressions reference" and "Rate expressions"; EventBridge
//! Scheduler User Guide, "Schedule types"), so that a bad expression fails
//! at its key in apprun.toml rather than in a CloudFormation rollback.

/// One of the six fields of a cron expression.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    /// Names accepted for values (`JAN` = 1, `SUN` = 1), case-insensitive.
    names: &'static [&'static str],
    /// The wildcards beyond `, - *` this field takes.
    question: bool,
    slash: bool,
    last: bool,
    weekday: bool,
    nth: bool,
}

const MONTHS: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const fn field(name: &'static str, min: u32, max: u32) -> Field {
    Field {
        name,
        min,
        max,
        names: &[],
        question: false,
        slash: true,
        last: false,
        weekday: false,
        nth: false,
    }
}

const FIELDS: [Field; 6] = [
    field("minutes", 0, 59),
    field("hours", 0, 23),
    Field {
        question: true,
        last: true,
        weekday: true,
        ..field("day-of-month", 1, 31)
    },
    Field {
        names: MONTHS,
        ..field("month", 1, 12)
    },
    Field {
        names: DAYS,
        question: true,
        slash: false,
        last: true,
        nth: true,
        ..field("day-of-week", 1, 7)
    },
    field("year", 1970, 2199),
];

/// Checks a Scheduler expression; the error says what is wrong and what
/// the service accepts.
pub(crate) fn check(expression: &str) -> Result<(), String> {
    let e = expression.trim();
    if e != expression {
        return Err("remove the spaces around the expression".into());
    }
    if let Some(inner) = e.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        return cron(inner);
    }
    if let Some(inner) = e.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        return rate(inner);
    }
    if let Some(inner) = e.strip_prefix("at(").and_then(|r| r.strip_suffix(')')) {
        return at(inner);
    }
    Err(
        "a schedule is `cron(minutes hours day-of-month month day-of-week year)`, `rate(VALUE UNIT)` or `at(yyyy-mm-ddThh:mm:ss)`, e.g. \"cron(0 9 * * ? *)\" or \"rate(1 hour)\""
            .into(),
    )
}

/// `rate(VALUE UNIT)`: a positive whole number and minute(s), hour(s) or
/// day(s); singular for 1, plural otherwise.
fn rate(inner: &str) -> Result<(), String> {
    let parts: Vec<&str> = inner.split(' ').collect();
    let [value, unit] = parts.as_slice() else {
        return Err(format!(
            "`rate({inner})` is not `rate(VALUE UNIT)` with one space, e.g. \"rate(5 minutes)\""
        ));
    };
    let n: u32 = value
        .parse()
        .ok()
        .filter(|n| *n > 0 && !value.starts_with('+'))
        .ok_or_else(|| format!("`{value}` in `rate({inner})` is not a positive whole number"))?;
    let base = match *unit {
        "minute" | "minutes" => "minute",
        "hour" | "hours" => "hour",
        "day" | "days" => "day",
        other => {
            return Err(format!(
                "`{other}` is not a rate unit; allowed: minute(s), hour(s), day(s)"
            ));
        }
    };
    let plural = unit.ends_with('s');
    match (n == 1, plural) {
        (true, true) => Err(format!(
            "a rate of 1 takes the singular unit: \"rate(1 {base})\""
        )),
        (false, false) => Err(format!(
            "a rate above 1 takes the plural unit: \"rate({n} {base}s)\""
        )),
        _ => Ok(()),
    }
}

/// `at(yyyy-mm-ddThh:mm:ss)`: one run at that time.
fn at(inner: &str) -> Result<(), String> {
    let bad = || {
        format!("`at({inner})` is not `at(yyyy-mm-ddThh:mm:ss)`, e.g. \"at(2027-01-31T09:00:00)\"")
    };
    let b = inner.as_bytes();
    let shape = b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    if !shape {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| inner[r].parse::<u32>().unwrap_or(u32::MAX);
    let ok = (1..=12).contains(&num(5..7))
        && (1..=31).contains(&num(8..10))
        && num(11..13) <= 23
        && num(14..16) <= 59
        && num(17..19) <= 59;
    if ok { Ok(()) } else { Err(bad()) }
}

fn cron(inner: &str) -> Result<(), String> {
    let fields: Vec<&str> = inner.split_whitespace().collect();
    if fields.len() != FIELDS.len() {
        return Err(format!(
            "`cron({inner})` has {} field(s); a cron expression has 6: minutes hours day-of-month month day-of-week year, e.g. \"cron(0 9 * * ? *)\"",
            fields.len()
        ));
    }
    for (text, f) in fields.iter().zip(FIELDS.iter()) {
        check_field(text, f)?;
    }
    // Day-of-month (index 2) and day-of-week (index 4): exactly one is `?`.
    match (fields[2] == "?", fields[4] == "?") {
        (true, true) => {
            Err("day-of-month and day-of-week are both `?`; give one of them a value or `*`".into())
        }
        (false, false) => Err(format!(
            "day-of-month (`{}`) and day-of-week (`{}`) cannot both be given: one of them must be `?`, e.g. \"cron(0 9 * * ? *)\" (every day) or \"cron(0 9 ? * MON-FRI *)\" (weekdays)",
            fields[2], fields[4]
        )),
        _ => Ok(()),
    }
}

fn check_field(text: &str, f: &Field) -> Result<(), String> {
    let name = f.name;
    if text == "?" {
        return if f.question {
            Ok(())
        } else {
            Err(format!(
                "`?` is not allowed in {name}; only day-of-month and day-of-week take it"
            ))
        };
    }
    if text.contains('#') {
        return nth(text, f);
    }
    // `W` and `L` forms of a day stand alone in their field.
    if f.weekday && text.ends_with('W') {
        let day = &text[..text.len() - 1];
        return match value(day, f) {
            Some(_) => Ok(()),
            None => Err(format!(
                "`{text}` in {name}: `W` follows one day of the month (1-31), e.g. `15W` (the weekday nearest the 15th)"
            )),
        };
    }
    if f.last && text.ends_with('L') {
        let before = &text[..text.len() - 1];
        // `L` alone; in day-of-week also `nL`, the month's last such day.
        let ok = before.is_empty() || (f.nth && value(before, f).is_some());
        return if ok {
            Ok(())
        } else {
            Err(format!(
                "`{text}` in {name}: `L` stands alone{}",
                if f.nth {
                    " or follows one day of the week (`6L`, the month's last Friday)"
                } else {
                    " (the last day of the month)"
                }
            ))
        };
    }
    for item in text.split(',') {
        check_item(item, f).map_err(|why| format!("`{text}` in {name}: {why}"))?;
    }
    Ok(())
}

/// `d#n` in day-of-week: the n-th such day of the month; alone in the field.
fn nth(text: &str, f: &Field) -> Result<(), String> {
    let name = f.name;
    if !f.nth {
        return Err(format!(
            "`#` is not allowed in {name}; only day-of-week takes it"
        ));
    }
    let ok = text.split_once('#').is_some_and(|(d, n)| {
        !text.contains(',') && value(d, f).is_some() && matches!(n, "1" | "2" | "3" | "4" | "5")
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{text}` in {name}: `#` is `DAY#N`, one day of the week and its instance 1-5 in the month (`3#2`, the second Tuesday), alone in the field"
        ))
    }
}

/// One comma-separated item: `*`, `V`, `V-V`, with an optional `/STEP`.
fn check_item(item: &str, f: &Field) -> Result<(), String> {
    let (base, step) = match item.split_once('/') {
        Some((b, s)) => (b, Some(s)),
        None => (item, None),
    };
    if let Some(s) = step {
        if !f.slash {
            return Err("`/` is not allowed here".into());
        }
        match s.parse::<u32>() {
            Ok(n) if n >= 1 && n <= f.max && !s.starts_with('+') => {}
            _ => {
                return Err(format!(
                    "the increment `{s}` is not a whole number from 1 to {}",
                    f.max
                ));
            }
        }
    }
    if base == "*" {
        return Ok(());
    }
    if base.is_empty() {
        return Err("an empty value".into());
    }
    let (lo, hi) = match base.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (base, None),
    };
    let allowed = || {
        let mut s = format!("{}-{}", f.min, f.max);
        if let (Some(first), Some(last)) = (f.names.first(), f.names.last()) {
            s.push_str(&format!(" or {first}-{last}"));
        }
        s
    };
    let a = value(lo, f).ok_or_else(|| format!("`{lo}` is not a value; allowed: {}", allowed()))?;
    if let Some(hi) = hi {
        let b =
            value(hi, f).ok_or_else(|| format!("`{hi}` is not a value; allowed: {}", allowed()))?;
        // Months and days of the week may wrap (`NOV-FEB`, `FRI-MON`).
        if a > b && f.names.is_empty() {
            return Err(format!("the range `{base}` runs backwards"));
        }
    }
    Ok(())
}

/// A single value of the field: a number in its range or one of its names.
fn value(text: &str, f: &Field) -> Option<u32> {
    if let Some(i) = f.names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        return Some(f.min + i as u32);
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u32>()
        .ok()
        .filter(|n| (f.min..=f.max).contains(n))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_what_the_user_guide_shows() {
        for ok in [
            "cron(0 9 * * ? *)",
            "cron(0 10 * * ? *)",
            "cron(15 12 * * ? *)",
            "cron(0 18 ? * MON-FRI *)",
            "cron(0 8 1 * ? *)",
            "cron(0/15 * * * ? *)",
            "cron(0/10 * ? * MON-FRI *)",
            "cron(0/5 8-17 ? * MON-FRI *)",
            "cron(0 9 ? * 2#1 *)",
            "cron(0 0 L * ? *)",
            "cron(0 0 ? * 6L *)",
            "cron(0 0 15W * ? *)",
            "cron(0 0 ? * L *)",
            "cron(30 1 1,15 JAN,jul ? 2027-2030)",
            "cron(0 12 ? NOV-FEB FRI-MON *)",
            "cron(*/5 * * * ? *)",
            "rate(1 minute)",
            "rate(5 minutes)",
            "rate(1 hour)",
            "rate(12 hours)",
            "rate(1 day)",
            "rate(7 days)",
            "at(2027-01-31T09:00:00)",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_with_the_reason() {
        for (bad, why) in [
            ("cron(0 9 * * *)", "has 5 field(s)"),
            ("cron(0 9 * * * *)", "must be `?`"),
            ("cron(0 9 ? * ? *)", "both `?`"),
            ("cron(60 9 * * ? *)", "`60` is not a value; allowed: 0-59"),
            ("cron(0 24 * * ? *)", "allowed: 0-23"),
            ("cron(0 9 0 * ? *)", "allowed: 1-31"),
            ("cron(0 9 * 13 ? *)", "allowed: 1-12 or JAN-DEC"),
            ("cron(0 9 ? * 8 *)", "allowed: 1-7 or SUN-SAT"),
            ("cron(0 9 * * ? 1969)", "allowed: 1970-2199"),
            ("cron(0 9 ? * MON/2 *)", "`/` is not allowed"),
            ("cron(0 9 * * ? L)", "`L` is not a value"),
            ("cron(? 9 * * ? *)", "`?` is not allowed in minutes"),
            ("cron(0 9 * * 2#6 *)", "instance 1-5"),
            ("cron(0 9 ? * 2#1,6#3 *)", "alone in the field"),
            ("cron(0 9 1#2 * ? *)", "only day-of-week"),
            ("cron(0 9 W * ? *)", "`W` follows one day"),
            ("cron(0 9 5L * ? *)", "`L` stands alone"),
            ("cron(0 20-8 * * ? *)", "runs backwards"),
            ("cron(0/0 9 * * ? *)", "increment `0`"),
            ("cron(0,,5 9 * * ? *)", "an empty value"),
            ("rate(1 minutes)", "singular"),
            ("rate(5 minute)", "plural"),
            ("rate(0 minutes)", "positive whole number"),
            ("rate(1.5 hours)", "positive whole number"),
            ("rate(1 week)", "not a rate unit"),
            ("rate(5  minutes)", "one space"),
            ("every day", "a schedule is"),
            (" rate(1 hour)", "spaces"),
            ("at(2027-13-01T00:00:00)", "yyyy-mm-dd"),
        ] {
            let e = check(bad).expect_err(bad);
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
