//! Dates as visitors read them, per language and precision.

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
    crate::content::days_from_civil(y, m, day) * 86_400
}

fn civil(unix: i64) -> (i64, u8, u8, i64) {
    // Inverse of days_from_civil (Howard Hinnant), plus seconds of the day.
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs)
}

/// `2019-11-25T00:00:00Z` (Atom, JSON Feed).
pub fn rfc3339(unix: i64) -> String {
    let (y, m, d, s) = civil(unix);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s % 3600 / 60, s % 60)
}

/// A time for people, in UTC: `November 25, 2019, 14:05 UTC` or
/// `25. November 2019, 14:05 UTC`.
pub fn timestamp(unix: i64, lang: Lang) -> String {
    let (y, m, d, s) = civil(unix);
    let date = format(PartialDate { year: y as i32, month: Some(m), day: Some(d) }, lang);
    format!("{date}, {:02}:{:02} UTC", s / 3600, s % 3600 / 60)
}

/// `2019-11-25` (sitemaps).
pub fn ymd(unix: i64) -> String {
    let (y, m, d, _) = civil(unix);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `Mon, 25 Nov 2019 00:00:00 +0000` (RSS).
pub fn rfc822(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let (y, m, d, s) = civil(unix);
    let weekday = DAYS[unix.div_euclid(86_400).rem_euclid(7) as usize];
    let month = &MONTHS_EN[usize::from(m - 1)][..3];
    format!("{weekday}, {d:02} {month} {y:04} {:02}:{:02}:{:02} +0000", s / 3600, s % 3600 / 60, s % 60)
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
    }
}
