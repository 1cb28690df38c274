<?php
/**
 * WP-Cron: comments the service has not taken yet, this site's decisions not yet reported, and decisions
 * whose webhook never came. Runs every five minutes, and a minute after anything failed.
 */

defined( 'ABSPATH' ) || exit;

add_filter( 'cron_schedules', 'moderation_cron_schedules' );
function moderation_cron_schedules( $schedules ) {
	$schedules['moderation_five_minutes'] = array(
		'interval' => 5 * MINUTE_IN_SECONDS,
		'display'  => __( 'Every five minutes', 'moderation' ),
	);
	return $schedules;
}

add_action( 'moderation_cron', 'moderation_run_cron' );
add_action( 'moderation_retry', 'moderation_run_cron' );

function moderation_schedule_cron(): void {
	if ( ! wp_next_scheduled( 'moderation_cron' ) ) {
		wp_schedule_event( time() + MINUTE_IN_SECONDS, 'moderation_five_minutes', 'moderation_cron' );
	}
}

function moderation_unschedule_cron(): void {
	wp_clear_scheduled_hook( 'moderation_cron' );
	wp_clear_scheduled_hook( 'moderation_retry' );
}

/** Try again soon (the filter `moderation_retry_seconds`, 60 by default) unless a retry is already due. */
function moderation_schedule_retry(): void {
	if ( ! wp_next_scheduled( 'moderation_retry' ) ) {
		wp_schedule_single_event( time() + (int) apply_filters( 'moderation_retry_seconds', MINUTE_IN_SECONDS ), 'moderation_retry' );
	}
}

/** Comment ids that carry a meta key, oldest first. */
function moderation_comments_with( string $key, string $value = '' ): array {
	global $wpdb;
	$sql = "SELECT comment_id FROM {$wpdb->commentmeta} WHERE meta_key = %s" . ( '' === $value ? '' : ' AND meta_value = %s' )
		. ' ORDER BY comment_id LIMIT %d';
	$args = '' === $value ? array( $key, MODERATION_BATCH ) : array( $key, $value, MODERATION_BATCH );
	return array_map( 'intval', $wpdb->get_col( $wpdb->prepare( $sql, ...$args ) ) );
}

function moderation_run_cron(): void {
	if ( ! moderation_configured() ) {
		return;
	}
	$unreachable = false;
	foreach ( moderation_comments_with( '_moderation_unsent' ) as $comment_id ) {
		if ( 'retry' === moderation_send_comment( $comment_id ) ) {
			$unreachable = true;
			break; // the service is away: the others wait for the next run rather than time out one by one
		}
	}
	if ( ! $unreachable ) {
		foreach ( moderation_comments_with( '_moderation_feedback' ) as $comment_id ) {
			if ( ! moderation_report_status( $comment_id, (string) get_comment_meta( $comment_id, '_moderation_feedback', true ) ) ) {
				$unreachable = true;
				break;
			}
		}
	}
	if ( ! $unreachable ) {
		$stale = time() - 2 * MINUTE_IN_SECONDS;
		foreach ( moderation_comments_with( '_moderation_status', 'pending' ) as $comment_id ) {
			$comment = get_comment( $comment_id );
			if ( $comment && strtotime( $comment->comment_date_gmt . ' UTC' ) < $stale && ! moderation_refresh( $comment_id ) ) {
				$unreachable = true;
				break;
			}
		}
	}
	if ( $unreachable ) {
		moderation_schedule_retry();
	}
}
