#!/usr/bin/env bash
# Makes tests/fixtures/wordpress/campaign.xml: a WordPress export (WXR) written
# by a real WordPress (Debian 12's `wordpress` package), as a test fixture for
# `casefile import-wordpress`.
#
# Run as root on Debian 12, from anywhere:  bash scripts/wordpress-fixtures.sh
#
# What it does, every time from scratch:
#   1. installs the Debian packages it needs if they are missing
#      (wordpress mariadb-server php-cli php-mysql faketime);
#   2. makes sure MariaDB runs, drops and recreates the database casefile_wxr;
#   3. writes /etc/wordpress/config-wxr.localhost.php (Debian's wordpress
#      package picks its config by host name) and a scratch upload folder;
#   4. installs WordPress with wp_install(), removes its sample content,
#      creates the test content below with WordPress's own PHP functions and
#      exports it with WordPress's own exporter, export_wp().
#
# The output is fixed as far as WordPress allows: every post, comment and user
# gets a fixed date and name, and PHP runs under faketime with its clock set to
# 2024-06-01 12:00:00 UTC, advancing one microsecond per clock reading (not with
# real time), so that the values WordPress takes from the clock (the export's
# "created" comment and channel <pubDate>, post_modified after an edit, nav
# menu items) come out the same on every run. (A fully frozen clock would not
# do: WordPress's object cache tells stale entries apart by microtime().)
# Nothing is edited in the XML after WordPress wrote it.
#
# The content is invented (a fictional campaign); no real person is named.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="$ROOT/tests/fixtures/wordpress"
OUT="$OUT_DIR/campaign.xml"
SITE_HOST="wxr.localhost"
DB_NAME="casefile_wxr"
DB_USER="casefile_wxr"
DB_PASS="casefile_wxr"
UPLOADS="/var/lib/wordpress/wxr.localhost-uploads"
WP_CONFIG="/etc/wordpress/config-${SITE_HOST}.php"
FAKE_CLOCK="@2024-06-01 12:00:00 i0.000001"

if [ "$(id -u)" -ne 0 ]; then
	echo "wordpress-fixtures.sh: run me as root (apt-get, MariaDB, /etc/wordpress)" >&2
	exit 1
fi

# 1. Packages.
missing=()
for pkg in wordpress mariadb-server php-cli php-mysql faketime; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$pkg")
	fi
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "Installing: ${missing[*]}"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# 2. MariaDB.
if ! mysqladmin --user=root ping >/dev/null 2>&1; then
	echo "Starting MariaDB"
	service mariadb start >/dev/null 2>&1 || true
	if ! mysqladmin --user=root ping >/dev/null 2>&1; then
		(mysqld_safe >/dev/null 2>&1 &)
	fi
	for _ in $(seq 1 60); do
		mysqladmin --user=root ping >/dev/null 2>&1 && break
		sleep 1
	done
	mysqladmin --user=root ping >/dev/null
fi
DB_SOCKET="$(mysql --user=root -N -B -e 'SELECT @@socket')"

mysql --user=root <<SQL
DROP DATABASE IF EXISTS \`${DB_NAME}\`;
CREATE DATABASE \`${DB_NAME}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci;
CREATE USER IF NOT EXISTS '${DB_USER}'@'localhost' IDENTIFIED BY '${DB_PASS}';
GRANT ALL PRIVILEGES ON \`${DB_NAME}\`.* TO '${DB_USER}'@'localhost';
FLUSH PRIVILEGES;
SQL

# 3. WordPress config for the host wxr.localhost, and an upload folder of its own.
install -d -m 0755 /etc/wordpress
cat >"$WP_CONFIG" <<CONFIG
<?php
// Written by Casefile's scripts/wordpress-fixtures.sh; rewritten on every run.
define('DB_NAME', '${DB_NAME}');
define('DB_USER', '${DB_USER}');
define('DB_PASSWORD', '${DB_PASS}');
define('DB_HOST', 'localhost:${DB_SOCKET}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
define('WP_HOME', 'http://${SITE_HOST}');
define('WP_SITEURL', 'http://${SITE_HOST}');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('WP_DEBUG', false);
\$table_prefix = 'wp_';
CONFIG
chmod 0640 "$WP_CONFIG"

rm -rf "$UPLOADS"
install -d -m 0755 "$UPLOADS"
mkdir -p "$OUT_DIR"

# 4. WordPress itself: install, then content and export (two PHP processes,
# because the install runs with WP_INSTALLING defined and the rest must not).
PHP_FILE="$(mktemp /tmp/wordpress-fixtures.XXXXXX.php)"
trap 'rm -f "$PHP_FILE"' EXIT
cat >"$PHP_FILE" <<'PHP'
<?php
// Usage: php THIS_FILE install|build UPLOADS OUT
$stage   = $argv[1];
$uploads = $argv[2];
$out     = isset( $argv[3] ) ? $argv[3] : '';

// Debian's /usr/share/wordpress/wp-config.php picks /etc/wordpress/config-<host>.php.
$_SERVER['HTTP_HOST']       = 'wxr.localhost';
$_SERVER['SERVER_NAME']     = 'wxr.localhost';
$_SERVER['SERVER_PORT']     = '80';
$_SERVER['REQUEST_URI']     = '/';
$_SERVER['REQUEST_METHOD']  = 'GET';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';

// This machine sends no mail (wp_install() mails the admin). wp_mail() is pluggable.
function wp_mail() {
	return true;
}

function fx_fail( $what ) {
	fwrite( STDERR, 'wordpress-fixtures: ' . $what . "\n" );
	exit( 1 );
}

function fx_check( $result, $what ) {
	if ( is_wp_error( $result ) ) {
		fx_fail( $what . ': ' . $result->get_error_message() );
	}
	if ( ! $result ) {
		fx_fail( $what . ' failed' );
	}
	return $result;
}

if ( 'install' === $stage ) {
	define( 'WP_INSTALLING', true );
	require '/usr/share/wordpress/wp-load.php';
	require_once ABSPATH . 'wp-admin/includes/upgrade.php';
	// No network: wp_install() probes the site over HTTP to decide on pretty permalinks.
	add_filter( 'pre_http_request', function () {
		return new WP_Error( 'offline', 'The fixture site has no network.' );
	} );

	$result = wp_install( 'Friends of the Test Campaign', 'admin', 'admin@wxr.localhost', true, '', 'fixture-admin-password' );
	fx_check( $result, 'wp_install' );

	// Remove WordPress's sample content ("Hello world!", "Sample Page", the
	// privacy policy draft, the sample comment) so that our IDs start at 1.
	global $wpdb;
	foreach ( array( $wpdb->posts, $wpdb->postmeta, $wpdb->comments, $wpdb->commentmeta, $wpdb->term_relationships ) as $table ) {
		$wpdb->query( "TRUNCATE TABLE $table" );
	}
	$wpdb->query( "UPDATE $wpdb->term_taxonomy SET count = 0" );
	update_option( 'wp_page_for_privacy_policy', 0 );
	update_option( 'sticky_posts', array() );

	update_option( 'blogname', 'Friends of the Test Campaign' );
	update_option( 'blogdescription', 'A fictional campaign for a new trial (Casefile test fixture)' );
	update_option( 'timezone_string', 'Europe/Berlin' );
	update_option( 'gmt_offset', '' );
	update_option( 'upload_path', $uploads );
	update_option( 'upload_url_path', 'http://wxr.localhost/wp-content/uploads' );
	update_option( 'uploads_use_yearmonth_folders', 1 );
	update_option( 'default_comment_status', 'open' );

	global $wp_rewrite;
	$wp_rewrite->set_permalink_structure( '/%year%/%monthnum%/%postname%/' );
	update_option( 'rewrite_rules', '' );

	fx_check( wp_update_user( array(
		'ID'           => 1,
		'display_name' => 'Campaign Admin',
		'first_name'   => 'Campaign',
		'last_name'    => 'Admin',
		'nickname'     => 'admin',
	) ), 'update admin' );
	echo 'Installed WordPress ' . get_bloginfo( 'version' ) . "\n";
	exit( 0 );
}

if ( 'build' !== $stage ) {
	fx_fail( "unknown stage $stage" );
}

require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/file.php';
require_once ABSPATH . 'wp-admin/includes/image.php';
require_once ABSPATH . 'wp-admin/includes/media.php';
require_once ABSPATH . 'wp-admin/includes/export.php';
add_filter( 'pre_http_request', function () {
	return new WP_Error( 'offline', 'The fixture site has no network.' );
} );

if ( '/%year%/%monthnum%/%postname%/' !== get_option( 'permalink_structure' ) ) {
	fx_fail( 'permalinks are not pretty' );
}

// Act as the administrator, who may post unfiltered HTML, and switch KSES off
// outright, so that the <script> and the inline style reach the database.
wp_set_current_user( 1 );
kses_remove_filters();

// --- Users -----------------------------------------------------------------
function fx_user( $login, $first, $last, $role, $registered ) {
	return fx_check( wp_insert_user( array(
		'user_login'      => $login,
		'user_pass'       => 'fixture-password-' . $login,
		'user_email'      => $login . '@example.org',
		'user_url'        => '',
		'display_name'    => $first . ' ' . $last,
		'nickname'        => $login,
		'first_name'      => $first,
		'last_name'       => $last,
		'role'            => $role,
		'user_registered' => $registered,
	) ), "user $login" );
}
$anna = fx_user( 'anna', 'Anna', 'Beispiel', 'editor', '2019-01-15 09:00:00' );
$ben  = fx_user( 'ben', 'Ben', 'Example', 'author', '2019-02-01 09:00:00' );

// --- Terms -----------------------------------------------------------------
function fx_term( $name, $taxonomy, $args = array() ) {
	$r = fx_check( wp_insert_term( wp_slash( $name ), $taxonomy, wp_slash( $args ) ), "term $name" );
	return (int) $r['term_id'];
}
$cat_press    = fx_term( 'Press', 'category', array( 'slug' => 'press', 'description' => 'Press releases and coverage.' ) );
$cat_hearings = fx_term( 'Hearings', 'category', array( 'slug' => 'hearings' ) );
$cat_appeals  = fx_term( 'Appeals', 'category', array( 'slug' => 'appeals', 'parent' => $cat_hearings ) );
$tag_parole   = fx_term( 'parole', 'post_tag' );
$tag_dna      = fx_term( 'DNA evidence', 'post_tag', array( 'slug' => 'dna-evidence' ) );
$tag_gericht  = fx_term( 'Gerichtsverhandlung', 'post_tag' );
$tag_gnade    = fx_term( 'Begnadigung', 'post_tag' );
$tag_greek    = fx_term( 'αλληλεγγύη', 'post_tag' );

// --- Posts -----------------------------------------------------------------
// post_date is local time (the site's timezone is Europe/Berlin); post_date_gmt
// is worked out by WordPress unless given. Drafts get no post_date_gmt
// (WordPress stores 0000-00-00 00:00:00 for an undated draft's GMT date).
function fx_post( $args ) {
	$args = array_merge( array(
		'post_type'      => 'post',
		'post_status'    => 'publish',
		'comment_status' => 'open',
		'ping_status'    => 'open',
	), $args );
	if ( isset( $args['post_date'] ) && ! isset( $args['post_date_gmt'] ) && 'draft' !== $args['post_status'] ) {
		$args['post_date_gmt'] = get_gmt_from_date( $args['post_date'] );
	}
	return (int) fx_check( wp_insert_post( wp_slash( $args ), true ), 'post ' . $args['post_title'] );
}
function fx_terms( $post_id, $ids, $taxonomy ) {
	fx_check( wp_set_object_terms( $post_id, array_map( 'intval', $ids ), $taxonomy ), "terms of $post_id" );
}

// Pages, with a hierarchy and menu_order.
$page_about = fx_post( array(
	'post_type'      => 'page',
	'post_title'     => 'About the case',
	'post_name'      => 'about-the-case',
	'post_author'    => $anna,
	'post_date'      => '2019-03-01 10:00:00',
	'menu_order'     => 1,
	'comment_status' => 'closed',
	'ping_status'    => 'closed',
	'post_content'   => "In 1990 a young man was sentenced for a crime he says he did not commit. This site collects what is known about the case.\n\nThe pages below explain <a href=\"http://wxr.localhost/about-the-case/the-evidence/\">the evidence</a> and what the campaign asks for.",
) );
$page_evidence = fx_post( array(
	'post_type'      => 'page',
	'post_title'     => 'The evidence',
	'post_name'      => 'the-evidence',
	'post_parent'    => $page_about,
	'post_author'    => $anna,
	'post_date'      => '2019-03-02 11:00:00',
	'menu_order'     => 2,
	'comment_status' => 'closed',
	'ping_status'    => 'closed',
	'post_content'   => "The conviction rested on a confession that was later withdrawn, and on a sock print.\n\nNo physical trace connects the accused to the scene.",
) );
$page_dna = fx_post( array(
	'post_type'      => 'page',
	'post_title'     => 'DNA tests',
	'post_name'      => 'dna-tests',
	'post_parent'    => $page_evidence,
	'post_author'    => $ben,
	'post_date'      => '2019-04-10 15:30:00',
	'comment_status' => 'closed',
	'ping_status'    => 'closed',
	'post_content'   => "In 2009 new DNA tests were made on the blood samples kept from the crime scene.\n\nNone of the samples matched the accused.",
) );
$page_ueber = fx_post( array(
	'post_type'      => 'page',
	'post_title'     => 'Über den Fall',
	'post_name'      => 'über-den-fall',
	'post_author'    => $ben,
	'post_date'      => '2019-05-20 08:15:00',
	'menu_order'     => 3,
	'comment_status' => 'closed',
	'ping_status'    => 'closed',
	'post_content'   => "Diese Seite fasst den Fall auf Deutsch zusammen.\n\nDer Verurteilte beteuert seit über dreißig Jahren seine Unschuld. Die Kampagne fordert ein Wiederaufnahmeverfahren.",
) );

// (a) Published English news post: categories, tag, excerpt, classic (wpautop)
// content; the caption shortcode and featured image are added once the image
// attachment exists (an edit, as in the editor, so post_modified moves on).
$post_a = fx_post( array(
	'post_title'   => 'Campaign hands in petition for a new trial',
	'post_name'    => 'petition-for-a-new-trial',
	'post_author'  => $anna,
	'post_date'    => '2020-05-12 09:30:00',
	'post_excerpt' => 'More than 2,000 people signed our petition for a new trial.',
	'post_content' => 'Placeholder, replaced below.',
) );
fx_terms( $post_a, array( $cat_press ), 'category' );
fx_terms( $post_a, array( $tag_parole ), 'post_tag' );

// Attachments: files in the scratch upload folder, metadata by WordPress.
function fx_file( $uploads, $relative, $bytes ) {
	$path = $uploads . '/' . $relative;
	wp_mkdir_p( dirname( $path ) );
	file_put_contents( $path, $bytes );
	return $path;
}
// A small real JPEG drawn with GD (640x427, so WordPress makes 150x150 and 300x200 sizes).
$img = imagecreatetruecolor( 640, 427 );
imagefilledrectangle( $img, 0, 0, 639, 426, imagecolorallocate( $img, 210, 220, 235 ) );
imagefilledrectangle( $img, 120, 140, 520, 400, imagecolorallocate( $img, 170, 160, 150 ) );
imagefilledpolygon( $img, array( 100, 140, 320, 40, 540, 140 ), imagecolorallocate( $img, 120, 110, 100 ) );
for ( $x = 160; $x <= 480; $x += 80 ) {
	imagefilledrectangle( $img, $x, 160, $x + 24, 390, imagecolorallocate( $img, 235, 230, 220 ) );
}
imagestring( $img, 5, 230, 405, 'Courthouse (test image)', imagecolorallocate( $img, 20, 20, 20 ) );
ob_start();
imagejpeg( $img, null, 82 );
$jpeg = ob_get_clean();
imagedestroy( $img );
$jpeg_path = fx_file( $uploads, '2020/05/courthouse.jpg', $jpeg );

$att_jpeg = (int) fx_check( wp_insert_attachment( wp_slash( array(
	'post_title'     => 'Courthouse in Exampletown',
	'post_name'      => 'courthouse',
	'post_excerpt'   => 'The courthouse in Exampletown, where the petition was filed.',
	'post_content'   => 'Photo: Friends of the Test Campaign.',
	'post_mime_type' => 'image/jpeg',
	'post_status'    => 'inherit',
	'post_author'    => $anna,
	'post_date'      => '2020-05-12 09:20:00',
	'post_date_gmt'  => get_gmt_from_date( '2020-05-12 09:20:00' ),
	'guid'           => 'http://wxr.localhost/wp-content/uploads/2020/05/courthouse.jpg',
	'comment_status' => 'closed',
	'ping_status'    => 'closed',
) ), $jpeg_path, $post_a, true ), 'attachment courthouse.jpg' );
wp_update_attachment_metadata( $att_jpeg, wp_generate_attachment_metadata( $att_jpeg, $jpeg_path ) );
update_post_meta( $att_jpeg, '_wp_attachment_image_alt', wp_slash( 'The courthouse in Exampletown, seen from the square' ) );
fx_check( set_post_thumbnail( $post_a, $att_jpeg ), 'featured image' );

$pdf = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
	. "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
	. "4 0 obj<</Length 58>>stream\nBT /F1 24 Tf 72 760 Td (Petition for a new trial) Tj ET\n\nendstream endobj\n"
	. "5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
$pdf_path = fx_file( $uploads, '2020/05/petition.pdf', $pdf );
$att_pdf  = (int) fx_check( wp_insert_attachment( wp_slash( array(
	'post_title'     => 'Petition for a new trial (PDF)',
	'post_name'      => 'petition',
	'post_excerpt'   => '',
	'post_content'   => 'The full text of the petition.',
	'post_mime_type' => 'application/pdf',
	'post_status'    => 'inherit',
	'post_author'    => $anna,
	'post_date'      => '2020-05-12 09:10:00',
	'post_date_gmt'  => get_gmt_from_date( '2020-05-12 09:10:00' ),
	'guid'           => 'http://wxr.localhost/wp-content/uploads/2020/05/petition.pdf',
	'comment_status' => 'closed',
	'ping_status'    => 'closed',
) ), $pdf_path, $page_about, true ), 'attachment petition.pdf' );
wp_update_attachment_metadata( $att_pdf, wp_generate_attachment_metadata( $att_pdf, $pdf_path ) );

$content_a = <<<HTML
The <strong>Friends of the Test Campaign</strong> today handed in a petition for a new trial at the courthouse in Exampletown.

[caption id="attachment_{$att_jpeg}" align="aligncenter" width="300"]<img class="size-medium wp-image-{$att_jpeg}" src="http://wxr.localhost/wp-content/uploads/2020/05/courthouse-300x200.jpg" alt="The courthouse in Exampletown, seen from the square" width="300" height="200" /> The courthouse in Exampletown, where the petition was filed.[/caption]

More than 2,000 people signed it. Read <a href="http://wxr.localhost/about-the-case/">about the case</a> or download the <a href="http://wxr.localhost/wp-content/uploads/2020/05/petition.pdf">petition as a PDF</a>.

What we ask for:
<ul>
 	<li>a new hearing,</li>
 	<li><em>independent</em> DNA tests,</li>
 	<li>access to all files.</li>
</ul>
Thanks to everyone who signed &amp; shared it. Coverage: <a href="https://news.example.com/2020/05/petition" target="_blank">Example News</a>.
HTML;
fx_check( wp_update_post( wp_slash( array(
	'ID'           => $post_a,
	'post_content' => $content_a,
) ), true ), 'update post a' );
stick_post( $post_a );

// Comments on (a): one, a reply to it, and one held for moderation.
function fx_comment( $args ) {
	$args = array_merge( array(
		'comment_author_url' => '',
		'comment_author_IP'  => '192.0.2.10',
		'comment_agent'      => 'Mozilla/5.0 (fixture)',
		'comment_approved'   => 1,
		'comment_type'       => 'comment',
		'comment_parent'     => 0,
		'user_id'            => 0,
	), $args );
	$args['comment_date_gmt'] = get_gmt_from_date( $args['comment_date'] );
	return (int) fx_check( wp_insert_comment( wp_slash( $args ) ), 'comment' );
}
$comment_1 = fx_comment( array(
	'comment_post_ID'      => $post_a,
	'comment_author'       => 'Clara Leserin',
	'comment_author_email' => 'clara@example.net',
	'comment_author_url'   => 'https://clara.example.net/',
	'comment_date'         => '2020-05-12 18:04:00',
	'comment_content'      => "Signed and shared. Good luck with the court!\n\nWhen will you know more?",
) );
fx_comment( array(
	'comment_post_ID'      => $post_a,
	'comment_author'       => 'Anna Beispiel',
	'comment_author_email' => 'anna@example.org',
	'comment_author_IP'    => '192.0.2.20',
	'comment_date'         => '2020-05-13 08:30:00',
	'comment_content'      => 'Thank you, Clara! The court has three months to answer.',
	'comment_parent'       => $comment_1,
	'user_id'              => $anna,
) );
fx_comment( array(
	'comment_post_ID'      => $post_a,
	'comment_author'       => 'Not Yet Approved',
	'comment_author_email' => 'pending@example.net',
	'comment_author_IP'    => '192.0.2.30',
	'comment_date'         => '2020-05-14 12:00:00',
	'comment_content'      => 'This comment waits for moderation.',
	'comment_approved'     => 0,
) );

// (b) Published German post with an umlaut in title and slug.
$post_b = fx_post( array(
	'post_title'   => 'Neue Anhörung in München',
	'post_name'    => 'anhörung-in-münchen',
	'post_author'  => $ben,
	'post_date'    => '2021-02-03 14:00:00',
	'post_content' => "Das Gericht in München hat für den 15. März eine neue Anhörung angesetzt. Die Verteidigung legt zwei neue Gutachten vor.\n\n„Wir sind vorsichtig optimistisch“, sagte eine Sprecherin der Kampagne.\n\nMehr dazu auf unserer Seite <a href=\"http://wxr.localhost/uber-den-fall/\">Über den Fall</a>.",
) );
fx_terms( $post_b, array( $cat_appeals ), 'category' );
fx_terms( $post_b, array( $tag_gericht, $tag_gnade ), 'post_tag' );

// (c) Draft, no slug (as the editor leaves it), no GMT date.
$post_c = fx_post( array(
	'post_title'   => 'Newsletter ideas (draft)',
	'post_status'  => 'draft',
	'post_author'  => $anna,
	'post_date'    => '2022-01-10 16:45:00',
	'post_content' => "Notes for the next newsletter:\n\n- thank the signers\n- announce the vigil",
) );
fx_terms( $post_c, array( $cat_press ), 'category' );

// (d) Scheduled post, to appear in 2031.
$post_d = fx_post( array(
	'post_title'   => 'Hearing scheduled for autumn 2031',
	'post_name'    => 'hearing-autumn-2031',
	'post_status'  => 'future',
	'post_author'  => $ben,
	'post_date'    => '2031-09-01 10:00:00',
	'post_content' => 'This post is scheduled and will publish itself on 1 September 2031.',
) );
fx_terms( $post_d, array( $cat_hearings ), 'category' );

// (e) Private post.
$post_e = fx_post( array(
	'post_title'   => 'Internal: contact list for the vigil',
	'post_name'    => 'internal-contact-list',
	'post_status'  => 'private',
	'post_author'  => $anna,
	'post_date'    => '2022-06-15 20:00:00',
	// The code sample holds "]]>", which the exporter has to split across two CDATA sections.
	'post_content' => "Only logged-in editors can read this private post.\n\nSpreadsheet check: <code>=IF(A[B[1]]>1, \"yes\", \"no\")</code>",
) );

// (f) Block editor (Gutenberg) content, with a bare URL in a classic part,
// an inline style and a script.
$content_f = <<<'HTML'
<!-- wp:paragraph -->
<p>The appeal hearing was filmed. Watch the <strong>full recording</strong> below.</p>
<!-- /wp:paragraph -->

<!-- wp:heading -->
<h2>The recording</h2>
<!-- /wp:heading -->

<!-- wp:embed {"url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ","type":"video","providerNameSlug":"youtube","responsive":true,"className":"wp-embed-aspect-16-9 wp-has-aspect-ratio"} -->
<figure class="wp-block-embed is-type-video is-provider-youtube wp-block-embed-youtube wp-embed-aspect-16-9 wp-has-aspect-ratio"><div class="wp-block-embed__wrapper">
https://www.youtube.com/watch?v=dQw4w9WgXcQ
</div><figcaption class="wp-element-caption">Recording of the hearing</figcaption></figure>
<!-- /wp:embed -->

<p>A second video, pasted as a bare link in a classic part of the post:</p>

https://www.youtube.com/watch?v=aqz-KE-bpKQ

<!-- wp:heading {"level":3} -->
<h3>What happens next</h3>
<!-- /wp:heading -->

<!-- wp:paragraph -->
<p style="color:red">styled</p>
<!-- /wp:paragraph -->

<!-- wp:list -->
<ul><li>Written judgment expected in spring</li><li>Vigil on the day of the judgment</li></ul>
<!-- /wp:list -->

<!-- wp:html -->
<script>alert('x')</script>
<!-- /wp:html -->

<!-- wp:image {"id":ATTACHMENT,"sizeSlug":"medium","linkDestination":"none"} -->
<figure class="wp-block-image size-medium"><img src="http://wxr.localhost/wp-content/uploads/2020/05/courthouse-300x200.jpg" alt="The courthouse in Exampletown, seen from the square" class="wp-image-ATTACHMENT"/></figure>
<!-- /wp:image -->
HTML;
$post_f = fx_post( array(
	'post_title'   => 'Video of the appeal hearing',
	'post_name'    => 'video-of-the-appeal-hearing',
	'post_author'  => $ben,
	'post_date'    => '2023-03-20 19:00:00',
	'post_content' => str_replace( 'ATTACHMENT', (string) $att_jpeg, $content_f ),
) );
fx_terms( $post_f, array( $cat_hearings, $cat_appeals ), 'category' );
fx_terms( $post_f, array( $tag_dna ), 'post_tag' );

// (g) Shortcodes an importer does not know; no category (WordPress files it under Uncategorized).
$post_g = fx_post( array(
	'post_title'   => 'Join the vigil',
	'post_name'    => 'join-the-vigil',
	'post_author'  => $anna,
	'post_date'    => '2024-01-08 12:00:00',
	'post_content' => "Sign up below and we will send you the details.\n\n[contact-form-7 id=\"5\" title=\"Vigil sign-up\"]\n\nPictures from last year's vigil:\n\n[gallery ids=\"{$att_jpeg}\" columns=\"3\" link=\"file\"]\n\n[unknown_widget mode=\"full\"]Text inside an unknown shortcode.[/unknown_widget]",
) );
fx_terms( $post_g, array( $tag_parole, $tag_dna ), 'post_tag' );

// (h) Published but password-protected.
$post_h = fx_post( array(
	'post_title'    => 'Minutes of the supporters meeting',
	'post_name'     => 'minutes-supporters-meeting',
	'post_author'   => $ben,
	'post_date'     => '2024-02-14 21:15:00',
	'post_password' => 'vigil2024',
	'post_content'  => 'Only supporters with the password can read these minutes.',
) );
fx_terms( $post_h, array( $cat_press ), 'category' );

// (i) A title WordPress cannot transliterate: its slug stays percent-encoded.
$post_i = fx_post( array(
	'post_title'   => 'Solidarity from Athens: αλληλεγγύη',
	'post_author'  => $ben,
	'post_date'    => '2024-03-01 10:00:00',
	'post_content' => 'Supporters in Athens sent a letter of solidarity.',
) );
fx_terms( $post_i, array( $cat_press ), 'category' );
fx_terms( $post_i, array( $tag_greek ), 'post_tag' );

// --- A nav menu (its items are exported as nav_menu_item posts) ------------
$menu = (int) fx_check( wp_create_nav_menu( 'Main menu' ), 'nav menu' );
fx_check( wp_update_nav_menu_item( $menu, 0, array(
	'menu-item-title'     => 'About the case',
	'menu-item-object'    => 'page',
	'menu-item-object-id' => $page_about,
	'menu-item-type'      => 'post_type',
	'menu-item-status'    => 'publish',
	'menu-item-position'  => 1,
) ), 'menu item page' );
fx_check( wp_update_nav_menu_item( $menu, 0, array(
	'menu-item-title'     => 'Press',
	'menu-item-object'    => 'category',
	'menu-item-object-id' => $cat_press,
	'menu-item-type'      => 'taxonomy',
	'menu-item-status'    => 'publish',
	'menu-item-position'  => 2,
) ), 'menu item category' );
fx_check( wp_update_nav_menu_item( $menu, 0, array(
	'menu-item-title'    => 'Sign the petition',
	'menu-item-url'      => 'https://petition.example.org/new-trial',
	'menu-item-type'     => 'custom',
	'menu-item-status'   => 'publish',
	'menu-item-position' => 3,
) ), 'menu item custom' );

// --- Export with WordPress's own exporter -----------------------------------
ob_start();
export_wp( array( 'content' => 'all' ) );
$xml = ob_get_clean();
if ( false === file_put_contents( $out, $xml ) ) {
	fx_fail( "cannot write $out" );
}
echo 'Wrote ' . strlen( $xml ) . " bytes to $out\n";
PHP

run_php() {
	# faketime sets the clock PHP sees (not MariaDB's); see the top of this file.
	faketime -f "$FAKE_CLOCK" php -d display_errors=stderr -d error_reporting=24575 "$PHP_FILE" "$@"
}
( cd /usr/share/wordpress && run_php install "$UPLOADS" )
( cd /usr/share/wordpress && run_php build "$UPLOADS" "$OUT" )

# Checks: well-formed XML with what the importer's tests rely on.
python3 - "$OUT" <<'PY'
import sys, xml.dom.minidom
path = sys.argv[1]
xml.dom.minidom.parse(path)
text = open(path, encoding="utf-8").read()
needles = [
    "<wp:wxr_version>1.2</wp:wxr_version>",
    "<wp:status><![CDATA[publish]]></wp:status>",
    "<wp:status><![CDATA[draft]]></wp:status>",
    "<wp:status><![CDATA[future]]></wp:status>",
    "<wp:status><![CDATA[private]]></wp:status>",
    "<wp:status><![CDATA[inherit]]></wp:status>",
    "<script>alert('x')</script>",
    '<p style="color:red">styled</p>',
    '[caption id="attachment_',
    "<!-- wp:paragraph -->",
    "<!-- wp:embed ",
    "https://www.youtube.com/watch?v=aqz-KE-bpKQ",
    "[contact-form-7 ",
    "[gallery ids=",
    "<wp:comment_parent>",
    "<wp:post_type><![CDATA[attachment]]></wp:post_type>",
    "<wp:attachment_url>",
    "<wp:category>",
    "<wp:tag>",
    "<wp:term>",
    "<wp:post_parent>1</wp:post_parent>",
    "<wp:post_parent>2</wp:post_parent>",
    "_thumbnail_id",
    "_wp_attachment_image_alt",
    "]]]]><![CDATA[>",
]
missing = [n for n in needles if n not in text]
if missing:
    sys.exit("campaign.xml lacks: " + ", ".join(missing))
print("checked", path)
PY
