<?php
/**
 * New comments go to the service; the service's decisions and this site's own moderation meet here.
 *
 * Comment meta the plugin keeps:
 *   _moderation_unsent    time the comment first waited to be sent (set before sending: a crash loses nothing)
 *   _moderation_attempts  failed attempts to send it
 *   _moderation_id        the service's id of the comment
 *   _moderation_status    the service's status: pending, approved, held, spam, rejected
 *   _moderation_scores    {spam, toxicity}; _moderation_reasons: the reasons, as the service gave them
 *   _moderation_sequence  the sequence of the latest webhook applied (older events are ignored)
 *   _moderation_feedback  this site's own status change, still to report to the service
 *   _moderation_error     why the service refused the comment (it then stays pending for this site's moderators)
 */

defined( 'ABSPATH' ) || exit;

/** The service's status → what wp_set_comment_status() takes, and what wp_get_comment_status() then says. */
const MODERATION_TO_WP  = array( 'approved' => 'approve', 'held' => 'hold', 'spam' => 'spam', 'rejected' => 'trash' );
const MODERATION_SHOWN  = array( 'approved' => 'approved', 'held' => 'unapproved', 'spam' => 'spam', 'rejected' => 'trash' );
/** This site's own moderation (wp_get_comment_status()) → the status reported to the service. */
const MODERATION_FROM_WP = array( 'approved' => 'approved', 'unapproved' => 'held', 'spam' => 'spam', 'trash' => 'rejected' );

/** Whether the plugin moderates this comment: readers' comments (not pingbacks, not the staff's own). */
function moderation_handles( array $commentdata ): bool {
	$type = $commentdata['comment_type'] ?? '';
	if ( '' !== $type && 'comment' !== $type ) {
		return false;
	}
	$user_id = (int) ( $commentdata['user_id'] ?? 0 );
	return ! ( $user_id && user_can( $user_id, 'moderate_comments' ) );
}

/** Every reader's comment waits (pending) until the service decides; WordPress's own spam and trash stand. */
add_filter( 'pre_comment_approved', 'moderation_hold_new_comment', 99, 2 );
function moderation_hold_new_comment( $approved, $commentdata ) {
	if ( is_wp_error( $approved ) || 'spam' === $approved || 'trash' === $approved ) {
		return $approved;
	}
	if ( ! moderation_configured() || ! moderation_handles( (array) $commentdata ) ) {
		return $approved;
	}
	return 0;
}

add_action( 'comment_post', 'moderation_comment_posted', 10, 3 );
function moderation_comment_posted( $comment_id, $approved, $commentdata ) {
	if ( '0' !== (string) $approved || ! moderation_configured() || ! moderation_handles( (array) $commentdata ) ) {
		return;
	}
	add_comment_meta( $comment_id, '_moderation_unsent', time(), true );
	if ( 'retry' === moderation_send_comment( (int) $comment_id ) ) {
		moderation_schedule_retry();
	}
}

/** What the service is told of a comment: the reader's fields and where it was posted. */
function moderation_comment_payload( WP_Comment $comment ): array {
	$post    = get_post( (int) $comment->comment_post_ID );
	$payload = array(
		'name'          => '' !== trim( $comment->comment_author ) ? $comment->comment_author : __( 'Anonymous', 'moderation' ),
		'text'          => $comment->comment_content,
		'email'         => $comment->comment_author_email,
		'url'           => $comment->comment_author_url,
		'article_id'    => (string) $comment->comment_post_ID,
		'article_url'   => $post ? get_permalink( $post ) : '',
		'article_title' => $post ? $post->post_title : '',
		'parent_id'     => $comment->comment_parent ? (string) $comment->comment_parent : '',
		'author_ip'     => $comment->comment_author_IP,
		'user_agent'    => $comment->comment_agent,
	);
	return array_filter( $payload, static fn( $value ) => is_string( $value ) && '' !== $value );
}

/**
 * Send one comment; returns 'sent', 'refused' (the service will never take it: it stays pending here) or
 * 'retry' (the service could not be reached or asked to wait; the cron job tries again).
 */
function moderation_send_comment( int $comment_id ): string {
	$comment = get_comment( $comment_id );
	if ( ! $comment ) {
		return 'refused';
	}
	$answer = moderation_request( 'POST', '/api/v1/comments', moderation_comment_payload( $comment ) );
	if ( is_array( $answer ) && ( 202 === $answer['code'] || 409 === $answer['code'] ) && ! empty( $answer['body']['id'] ) ) {
		// 409: the service already has this comment (an earlier attempt arrived but its answer did not).
		moderation_sent( $comment, (int) $answer['body']['id'], 409 === $answer['code'] );
		return 'sent';
	}
	if ( is_array( $answer ) && in_array( $answer['code'], array( 400, 409, 413, 422 ), true ) ) {
		$fields = isset( $answer['body']['fields'] ) && is_array( $answer['body']['fields'] ) ? $answer['body']['fields'] : array();
		$error  = trim( ( $answer['body']['error'] ?? "HTTP {$answer['code']}" ) . ' ' . implode( ' ', array_map( 'strval', $fields ) ) );
		update_comment_meta( $comment_id, '_moderation_error', $error );
		delete_comment_meta( $comment_id, '_moderation_unsent' );
		return 'refused';
	}
	update_comment_meta( $comment_id, '_moderation_attempts', (int) get_comment_meta( $comment_id, '_moderation_attempts', true ) + 1 );
	return 'retry';
}

/** The service took the comment: remember its id; if this site decided it meanwhile, say so. */
function moderation_sent( WP_Comment $comment, int $service_id, bool $known ): void {
	$id = (int) $comment->comment_ID;
	update_comment_meta( $id, '_moderation_id', $service_id );
	update_comment_meta( $id, '_moderation_status', 'pending' );
	delete_comment_meta( $id, '_moderation_unsent' );
	delete_comment_meta( $id, '_moderation_attempts' );
	delete_comment_meta( $id, '_moderation_error' );
	$shown = wp_get_comment_status( $comment );
	if ( 'unapproved' !== $shown && isset( MODERATION_FROM_WP[ $shown ] ) ) {
		// An editor decided it here while the service was away: that decision is the site's label.
		moderation_report_status( $id, MODERATION_FROM_WP[ $shown ] );
	} elseif ( $known ) {
		moderation_refresh( $id );
	}
}

/** Apply the service's view of a comment (its status, scores and reasons) to the WordPress comment. */
function moderation_apply( int $comment_id, array $service_comment ): void {
	$status = (string) ( $service_comment['status'] ?? '' );
	if ( isset( MODERATION_TO_WP[ $status ] ) && wp_get_comment_status( $comment_id ) !== MODERATION_SHOWN[ $status ] ) {
		$GLOBALS['moderation_applying'] = true; // our own change is not this site's moderation: do not report it
		try {
			wp_set_comment_status( $comment_id, MODERATION_TO_WP[ $status ] );
		} finally {
			$GLOBALS['moderation_applying'] = false;
		}
	}
	update_comment_meta( $comment_id, '_moderation_status', $status );
	if ( isset( $service_comment['scores'] ) && is_array( $service_comment['scores'] ) ) {
		update_comment_meta( $comment_id, '_moderation_scores', $service_comment['scores'] );
	}
	if ( isset( $service_comment['reasons'] ) && is_array( $service_comment['reasons'] ) ) {
		update_comment_meta( $comment_id, '_moderation_reasons', $service_comment['reasons'] );
	}
}

/** Ask the service for a comment's status and apply it (a webhook missed or never configured). */
function moderation_refresh( int $comment_id ): bool {
	$service_id = (int) get_comment_meta( $comment_id, '_moderation_id', true );
	$answer     = $service_id ? moderation_request( 'GET', "/api/v1/comments/{$service_id}" ) : null;
	if ( ! is_array( $answer ) || 200 !== $answer['code'] || ! is_array( $answer['body'] ) ) {
		return false;
	}
	if ( 'pending' !== ( $answer['body']['status'] ?? 'pending' ) ) {
		moderation_apply( $comment_id, $answer['body'] );
	}
	return true;
}

/** This site's own moderation in wp-admin (approve, unapprove, spam, trash, restore) goes to the service as a label. */
add_action( 'transition_comment_status', 'moderation_site_moderated', 10, 3 );
function moderation_site_moderated( $new_status, $old_status, $comment ) {
	if ( ! empty( $GLOBALS['moderation_applying'] ) || $new_status === $old_status ) {
		return;
	}
	$comment_id = (int) $comment->comment_ID;
	if ( ! get_comment_meta( $comment_id, '_moderation_id', true ) ) {
		return; // not sent yet: the cron job reports this site's decision once it is
	}
	$shown = wp_get_comment_status( $comment_id );
	if ( isset( MODERATION_FROM_WP[ $shown ] ) ) {
		moderation_report_status( $comment_id, MODERATION_FROM_WP[ $shown ] );
	}
}

/** Report a status this site gave a comment; if the service cannot be reached, the cron job reports it later. */
function moderation_report_status( int $comment_id, string $status ): bool {
	$service_id = (int) get_comment_meta( $comment_id, '_moderation_id', true );
	$answer     = moderation_request( 'POST', "/api/v1/comments/{$service_id}/status", array( 'status' => $status ) );
	if ( is_array( $answer ) && ( 200 === $answer['code'] || 404 === $answer['code'] || 400 === $answer['code'] ) ) {
		delete_comment_meta( $comment_id, '_moderation_feedback' );
		if ( 200 === $answer['code'] ) {
			update_comment_meta( $comment_id, '_moderation_status', (string) ( $answer['body']['status'] ?? $status ) );
		}
		return true;
	}
	update_comment_meta( $comment_id, '_moderation_feedback', $status );
	moderation_schedule_retry();
	return false;
}
