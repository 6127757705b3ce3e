//! Dates as visitors read them, per language and precision.

use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::content::{Lang, PartialDate};

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

fn month_name(lang: Lang, m: u8) -> &'static str {
    let names = match lang {
        Lang::En => &MONTHS_EN,
        Lang::De => &MONTHS_DE,
    };
    names[usize::from(m.clamp(1, 12) - 1)]
}

/// "March 30, 1985" / "30. März 1985"; "August 1984"; "1986".
pub fn format(d: PartialDate, lang: Lang) -> String {
    match (d.month, d.day, lang) {
        (Some(m), Some(day), Lang::En) => format!("{} {day}, {}", month_name(lang, m), d.year),
        (Some(m), Some(day), Lang::De) => format!("{day}. {} {}", month_name(lang, m), d.year),
        (Some(m), None, _) => format!("{} {}", month_name(lang, m), d.year),
        _ => d.year.to_string(),
    }
}

/// A range, compact where both ends share month and year: "July 26–29, 2016" / "26.–29. Juli 2016".
pub fn format_range(start: PartialDate, end: Option<PartialDate>, lang: Lang) -> String {
    let Some(end) = end.filter(|e| *e != start) else { return format(start, lang) };
    match (start, end) {
        (
            PartialDate { year: y1, month: Some(m1), day: Some(d1) },
            PartialDate { year: y2, month: Some(m2), day: Some(d2) },
        ) if y1 == y2 && m1 == m2 => match lang {
            Lang::En => format!("{} {d1}–{d2}, {y1}", month_name(lang, m1)),
            Lang::De => format!("{d1}.–{d2}. {} {y1}", month_name(lang, m1)),
        },
        _ => format!("{} – {}", format(start, lang), format(end, lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> PartialDate {
        s.parse().unwrap()
    }

    #[test]
    fn dates_follow_language_and_precision() {
        assert_eq!(format(d("1985-03-30"), Lang::En), "March 30, 1985");
        assert_eq!(format(d("1985-03-30"), Lang::De), "30. März 1985");
        assert_eq!(format(d("1984-08"), Lang::En), "August 1984");
        assert_eq!(format(d("1984-08"), Lang::De), "August 1984");
        assert_eq!(format(d("1986"), Lang::De), "1986");
    }

    #[test]
    fn ranges_are_compact_within_a_month() {
        assert_eq!(format_range(d("2016-07-26"), Some(d("2016-07-29")), Lang::En), "July 26–29, 2016");
        assert_eq!(format_range(d("2016-07-26"), Some(d("2016-07-29")), Lang::De), "26.–29. Juli 2016");
        assert_eq!(format_range(d("2012"), Some(d("2016")), Lang::En), "2012 – 2016");
        assert_eq!(format_range(d("2012"), None, Lang::En), "2012");
    }
}

/// Unix seconds at midnight UTC of the first day a partial date can mean.
pub fn unix(d: PartialDate) -> i64 {
    let (y, m, day) = d.first_day();
    jiff::civil::Date::new(y as i16, m as i8, day as i8)
        .and_then(|d| d.to_zoned(TimeZone::UTC))
        .map_or(0, |z| z.timestamp().as_second())
}

/// A unix time in UTC; out of range clamps to the epoch.
fn utc(unix: i64) -> Zoned {
    Timestamp::from_second(unix).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(TimeZone::UTC)
}

/// `2019-11-25T00:00:00Z` (Atom, JSON Feed).
pub fn rfc3339(unix: i64) -> String {
    utc(unix).timestamp().to_string()
}

/// A time for people, in UTC: `November 25, 2019, 14:05 UTC` or
/// `25. November 2019, 14:05 UTC`.
pub fn timestamp(unix: i64, lang: Lang) -> String {
    let t = utc(unix);
    let day = PartialDate { year: i32::from(t.year()), month: Some(t.month() as u8), day: Some(t.day() as u8) };
    format!("{}, {:02}:{:02} UTC", format(day, lang), t.hour(), t.minute())
}

/// `2019-11-25` (sitemaps).
pub fn ymd(unix: i64) -> String {
    utc(unix).date().to_string()
}

/// `Mon, 25 Nov 2019 00:00:00 +0000` (RSS).
pub fn rfc822(unix: i64) -> String {
    jiff::fmt::rfc2822::to_string(&utc(unix)).unwrap_or_default()
}

#[cfg(test)]
mod feed_date_tests {
    use super::*;

    #[test]
    fn machine_dates_round_trip() {
        let t = unix("2019-11-25".parse().unwrap());
        assert_eq!(t, 1_574_640_000);
        assert_eq!(rfc3339(t), "2019-11-25T00:00:00Z");
        assert_eq!(rfc822(t), "Mon, 25 Nov 2019 00:00:00 +0000");
        assert_eq!(ymd(t + 86_399), "2019-11-25");
        assert_eq!(rfc822(unix("1985-03-30".parse().unwrap())), "Sat, 30 Mar 1985 00:00:00 +0000");
        assert_eq!(rfc3339(unix("1966".parse().unwrap())), "1966-01-01T00:00:00Z");
        assert_eq!(timestamp(t + 14 * 3600 + 5 * 60, Lang::De), "25. November 2019, 14:05 UTC");
    }
}
