//! Finding a council's pages: robots.txt first (its rules, Crawl-delay and
//! Sitemap lines), then the sitemaps it names and `/sitemap.xml` (sitemap
//! indexes and gzip too), then links on the pages found, because guide and
//! step-by-step pages are often missing from sitemaps.

use std::io::Read;

use quick_xml::events::Event;
use quick_xml::Reader;
use url::Url;

use super::fetch::{FetchError, Fetcher};

/// The name robots.txt rules are matched against.
pub const ROBOT_NAME: &str = "SignpostImporter";

/// What robots.txt allows.
pub struct Robots {
    robot: Option<texting_robots::Robot>,
    pub sitemaps: Vec<String>,
}

impl Robots {
    /// Reads `/robots.txt`. A 4xx means no rules (everything allowed); a 5xx
    /// or no answer means stop, as RFC 9309 asks.
    pub fn fetch(fetcher: &mut Fetcher, site: &Url) -> Result<Robots, String> {
        let url = site.join("/robots.txt").map_err(|e| e.to_string())?;
        match fetcher.get(&url, None, None, 512 * 1024) {
            Ok(f) if (200..300).contains(&f.status) => {
                let robot = texting_robots::Robot::new(ROBOT_NAME, &f.body)
                    .map_err(|e| format!("robots.txt could not be read: {e}"))?;
                if let (Some(d), Some(host)) = (robot.delay, site.host_str()) {
                    fetcher.set_crawl_delay(host, d);
                }
                let sitemaps = robot.sitemaps.clone();
                Ok(Robots {
                    robot: Some(robot),
                    sitemaps,
                })
            }
            Ok(f) if (400..500).contains(&f.status) => Ok(Robots {
                robot: None,
                sitemaps: Vec::new(),
            }),
            Ok(f) => Err(format!(
                "robots.txt gave {} at {url}: stopping, because a site whose robots.txt cannot be read may not want to be fetched (RFC 9309). Try again later",
                f.status
            )),
            Err(FetchError::Refused(why)) => Err(format!("robots.txt {why}")),
            Err(e) => Err(format!(
                "robots.txt could not be fetched ({e}): stopping, because a site whose robots.txt cannot be read may not want to be fetched (RFC 9309). Check the address, or try again later"
            )),
        }
    }

    pub fn allowed(&self, url: &Url) -> bool {
        self.robot.as_ref().is_none_or(|r| r.allowed(url.as_str()))
    }
}

/// A page a sitemap lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub url: Url,
    pub lastmod: Option<String>,
}

/// Reads sitemaps from `start` (following sitemap indexes, at most `depth`
/// levels and `max_files` files), returning every page listed.
pub fn sitemaps(
    fetcher: &mut Fetcher,
    start: &[Url],
    max_files: usize,
) -> (Vec<Listed>, Vec<String>) {
    let mut queue: Vec<(Url, usize)> = start.iter().map(|u| (u.clone(), 0)).collect();
    let mut seen = std::collections::HashSet::new();
    let mut pages = Vec::new();
    let mut notes = Vec::new();
    let mut files = 0;
    while let Some((url, depth)) = queue.pop() {
        if !seen.insert(url.clone()) || files >= max_files || depth > 3 {
            continue;
        }
        files += 1;
        let body = match fetcher.get(&url, None, None, 10 * 1024 * 1024) {
            Ok(f) if (200..300).contains(&f.status) => f.body,
            Ok(f) => {
                if f.status != 404 {
                    notes.push(format!("sitemap {url} gave {}", f.status));
                }
                continue;
            }
            Err(e) => {
                notes.push(format!("sitemap {url}: {e}"));
                continue;
            }
        };
        let xml = match gunzip_if_needed(&body) {
            Ok(x) => x,
            Err(e) => {
                notes.push(format!("sitemap {url}: {e}"));
                continue;
            }
        };
        match parse_sitemap(&xml) {
            Ok(parsed) => {
                for loc in parsed.sitemaps {
                    if let Ok(u) = url.join(&loc) {
                        queue.push((u, depth + 1));
                    }
                }
                for (loc, lastmod) in parsed.urls {
                    if let Ok(u) = url.join(&loc) {
                        pages.push(Listed { url: u, lastmod });
                    }
                }
            }
            Err(e) => notes.push(format!("sitemap {url} is not a sitemap: {e}")),
        }
    }
    (pages, notes)
}

/// A gzip file (a `.xml.gz` sitemap) unpacked, at most 50 MB; anything else
/// as it is.
fn gunzip_if_needed(body: &[u8]) -> Result<Vec<u8>, String> {
    if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body)
            .take(50 * 1024 * 1024)
            .read_to_end(&mut out)
            .map_err(|e| format!("cannot unpack: {e}"))?;
        Ok(out)
    } else {
        Ok(body.to_vec())
    }
}

#[derive(Debug, Default, PartialEq)]
struct Parsed {
    sitemaps: Vec<String>,
    urls: Vec<(String, Option<String>)>,
}

/// A `urlset` or `sitemapindex`.
fn parse_sitemap(xml: &[u8]) -> Result<Parsed, String> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut out = Parsed::default();
    let mut path: Vec<String> = Vec::new();
    let (mut loc, mut lastmod) = (None::<String>, None::<String>);
    let mut text = String::new();
    let mut root_ok = false;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let name = e.local_name().into_inner().to_string();
                text.clear();
                if path.is_empty() {
                    root_ok = name == "urlset" || name == "sitemapindex";
                }
                path.push(name);
            }
            Ok(Event::End(_)) => {
                let name = path.pop().unwrap_or_default();
                match name.as_str() {
                    "loc" => loc = Some(text.trim().to_string()),
                    "lastmod" => lastmod = Some(text.trim().to_string()),
                    _ => {}
                }
                text.clear();
                if name == "url" {
                    if let Some(l) = loc.take() {
                        out.urls.push((l, lastmod.take()));
                    }
                    lastmod = None;
                } else if name == "sitemap" {
                    if let Some(l) = loc.take() {
                        out.sitemaps.push(l);
                    }
                    lastmod = None;
                }
            }
            Ok(Event::Text(t)) => text.push_str(&t.xml10_content()),
            Ok(Event::CData(t)) => text.push_str(&t),
            // Entities come apart from the text around them.
            Ok(Event::GeneralRef(r)) => match r.resolve_char_ref() {
                Ok(Some(c)) => text.push(c),
                _ => text.push_str(match &*r {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                }),
            },
            Ok(Event::Eof) => break,
            Err(e) => return Err(e.to_string()),
            _ => {}
        }
        buf.clear();
    }
    if !root_ok {
        return Err("no <urlset> or <sitemapindex>".into());
    }
    Ok(out)
}

/// Normalises a link for the crawl: absolute, no fragment, no query (council
/// content pages do not need one; search and tracking links do), and no
/// trailing slash except for the root.
pub fn normalise(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    clean(&base.join(href).ok()?)
}

/// An address as the crawl keeps it (see [`normalise`]).
pub fn clean(u: &Url) -> Option<Url> {
    let mut u = u.clone();
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    u.set_fragment(None);
    u.set_query(None);
    let path = u.path().to_string();
    if path.len() > 1 && path.ends_with('/') {
        u.set_path(path.trim_end_matches('/'));
    }
    Some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sitemaps_and_indexes_parse() {
        let urlset =
            br#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
          <url><loc>https://www.example.org/a</loc><lastmod>2026-04-01</lastmod></url>
          <url><loc>https://www.example.org/b</loc></url></urlset>"#;
        let p = parse_sitemap(urlset).unwrap();
        assert_eq!(
            p.urls,
            vec![
                (
                    "https://www.example.org/a".into(),
                    Some("2026-04-01".into())
                ),
                ("https://www.example.org/b".into(), None)
            ]
        );
        let index = br#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>/sitemaps/pages.xml</loc></sitemap></sitemapindex>"#;
        assert_eq!(
            parse_sitemap(index).unwrap().sitemaps,
            ["/sitemaps/pages.xml"]
        );
        assert!(parse_sitemap(b"<html><body>not found</body></html>").is_err());
    }

    #[test]
    fn gzip_sitemaps_are_unpacked() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"<urlset><url><loc>https://x.example/a</loc></url></urlset>")
            .unwrap();
        let bytes = gz.finish().unwrap();
        let xml = gunzip_if_needed(&bytes).unwrap();
        assert_eq!(parse_sitemap(&xml).unwrap().urls.len(), 1);
    }

    #[test]
    fn links_are_normalised() {
        let base = Url::parse("https://www.example.org/care/guide/overview").unwrap();
        let n = |h: &str| normalise(&base, h).map(|u| u.to_string());
        assert_eq!(
            n("what-we-count").as_deref(),
            Some("https://www.example.org/care/guide/what-we-count")
        );
        assert_eq!(
            n("/care/x/?source=a#top").as_deref(),
            Some("https://www.example.org/care/x")
        );
        assert_eq!(n("#main"), None);
        assert_eq!(n("mailto:a@b.example"), None);
        assert_eq!(n("tel:+441184960100"), None);
    }
}
