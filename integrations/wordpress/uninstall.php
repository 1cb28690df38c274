<?php
/** Deleting the plugin removes its settings; comments keep the service's ids and decisions in their meta. */
defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

foreach ( array( 'moderation_service_url', 'moderation_site_key', 'moderation_webhook_secret', 'moderation_last_error' ) as $option ) {
	delete_option( $option );
}
wp_clear_scheduled_hook( 'moderation_cron' );
wp_clear_scheduled_hook( 'moderation_retry' );
