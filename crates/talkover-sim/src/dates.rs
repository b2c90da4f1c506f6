//! Calendar arithmetic for the two date formats the simulator writes: RFC 3339 for
//! `created_at`/`updated_at`, and the IMF-fixdate of HTTP for a `Retry-After` date.
//!
//! Written here rather than pulled from a date crate: both formats need only the civil
//! date of a Unix time after 1970, which is a dozen lines. Pure functions, no clock.

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(unix_seconds: u64) -> String {
    let (year, month, day) = civil_from_days(unix_seconds / 86_400);
    let (hour, minute, second) = time_of_day(unix_seconds);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// Formats Unix seconds as an HTTP date in the preferred IMF-fixdate form
/// (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) fn imf_fixdate(unix_seconds: u64) -> String {
    const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_seconds / 86_400;
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = time_of_day(unix_seconds);
    // 1970-01-01 was a Thursday, index 4 when Sunday is 0.
    let weekday = WEEKDAYS[usize::try_from((days + 4) % 7).unwrap_or(0)];
    let month = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    format!("{weekday}, {day:02} {month} {year:04} {hour:02}:{minute:02}:{second:02} GMT")
}

fn time_of_day(unix_seconds: u64) -> (u64, u64, u64) {
    let second_of_day = unix_seconds % 86_400;
    (
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date `(year, month 1-12, day 1-31)`,
/// after Howard Hinnant's `civil_from_days` (restricted to dates after the epoch, which
/// is all we need).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-01T00:00:00Z, where the simulator's fake clock starts.
    const START: u64 = 1_767_225_600;

    #[test]
    fn rfc3339_across_day_month_and_leap_boundaries() {
        assert_eq!(rfc3339(START), "2026-01-01T00:00:00Z");
        assert_eq!(rfc3339(START + 86_399), "2026-01-01T23:59:59Z");
        assert_eq!(rfc3339(START + 31 * 86_400), "2026-02-01T00:00:00Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn imf_fixdate_matches_the_rfc_example_and_walks_the_week() {
        // The example of RFC 9110 §5.6.7.
        assert_eq!(imf_fixdate(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(imf_fixdate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(imf_fixdate(START), "Thu, 01 Jan 2026 00:00:00 GMT");
        assert_eq!(imf_fixdate(START + 86_400), "Fri, 02 Jan 2026 00:00:00 GMT");
        assert_eq!(
            imf_fixdate(START + 3 * 86_400),
            "Sun, 04 Jan 2026 00:00:00 GMT"
        );
        assert_eq!(imf_fixdate(951_868_799), "Tue, 29 Feb 2000 23:59:59 GMT");
        assert_eq!(imf_fixdate(START - 1), "Wed, 31 Dec 2025 23:59:59 GMT");
    }
}
