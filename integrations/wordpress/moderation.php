<?php
/**
 * Plugin Name:       Moderation
 * Description:       Sends every new comment to the self-hosted moderation service, applies its decisions through signed webhooks, and reports this site's own moderation back as training labels.
 * Version:           1.0.0
 * Requires at least: 6.1
 * Requires PHP:      8.2
 * Author:            Moderation
 * License:           MIT
 * Text Domain:       moderation
 * Domain Path:       /languages
 *
 * The folder is the plugin: copy integrations/wordpress/ to wp-content/plugins/moderation/ or install the zip
 * that `make wordpress-plugin` builds.
 */

defined( 'ABSPATH' ) || exit;

define( 'MODERATION_PLUGIN_FILE', __FILE__ );
define( 'MODERATION_TIMEOUT', 5 );           // seconds a reader waits at most for the service when posting
define( 'MODERATION_SIGNATURE_TOLERANCE', 300 ); // seconds a webhook's timestamp may differ from our clock
define( 'MODERATION_BATCH', 50 );             // comments the cron job handles per run, per kind of work

require_once __DIR__ . '/includes/client.php';
require_once __DIR__ . '/includes/comments.php';
require_once __DIR__ . '/includes/webhook.php';
require_once __DIR__ . '/includes/cron.php';
require_once __DIR__ . '/includes/admin.php';

add_action( 'init', 'moderation_load_textdomain' );
function moderation_load_textdomain() {
	load_plugin_textdomain( 'moderation', false, dirname( plugin_basename( MODERATION_PLUGIN_FILE ) ) . '/languages' );
}

register_activation_hook( __FILE__, 'moderation_schedule_cron' );
register_deactivation_hook( __FILE__, 'moderation_unschedule_cron' );
add_action( 'init', 'moderation_schedule_cron' ); // again after a migration or a cleared cron table
