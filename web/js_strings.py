"""The words of the console's and the brand admin's scripts, per script, translated on the
server as the page renders: the page puts the tables its scripts need in a JSON block
(``js_strings("inbox")``) and web/static/js/strings.js reads them (``t("key", {name})``).
``{name}`` placeholders are filled by the script, so translations keep them as they are;
a count has "key.one" and "key.other" (ngettext), chosen by Intl.PluralRules."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask_babel import gettext as _
from flask_babel import ngettext


def host() -> dict[str, str]:
    return {
        "cameraN": _("Camera {n}"),
        "microphoneN": _("Microphone {n}"),
        "restartCamera": _("Restart camera"),
        "cameraOnNotLive": _("Camera on · not live"),
        "NotAllowedError": _(
            "Permission denied: the browser was not allowed to use the camera and microphone. "
            "Allow them in the address bar and try again."
        ),
        "NotFoundError": _("No camera or microphone was found. Plug one in and try again."),
        "OverconstrainedError": _(
            "The chosen camera or microphone is no longer there. Choose another one."
        ),
        "NotReadableError": _(
            "The camera or microphone is in use by another application. Close it and try again."
        ),
        "cameraFailed": _("The camera could not start: {error}"),
        "cameraOn": _("Camera on"),
        "noCamera": _("No camera in use"),
        "microphoneOn": _("Microphone on"),
        "noMicrophone": _("No microphone in use"),
        "silent": _("silent"),
        "loud": _("loud"),
        "sound": _("sound"),
        "uplink": _("Sending {kbps} kbit/s to the video server (measured by your browser)."),
        "draft": _("Draft"),
        "scheduled": _("Scheduled"),
        "live": _("Live"),
        "ended": _("Ended"),
        "replay_published": _("Replay published"),
        "replay_hidden": _("Replay hidden"),
        "cancelled": _("Cancelled"),
        "goingLive": _("Going live…"),
        "couldNotGoLive": _("Could not go live."),
        "notLive": _("Not live"),
        "connecting": _("Connecting…"),
        "reconnecting": _("Reconnecting…"),
        "connectionFailed": _("Connection failed"),
        "offAir": _("Off air"),
        "confirmEnd": _("End the show for everyone?"),
        "noPicture": _("No picture yet."),
        "snapshotNotSent": _("The snapshot was not sent."),
        "showingNow": _("Showing now"),
        "showingNowLabel": _("Showing now: {name}"),
        "pushToChat": _("Push to chat"),
        "unpin": _("Unpin"),
        "unpinLabel": _("Unpin {name}"),
        "nothingPinned": _("Nothing pinned. Search the catalogue below."),
        "pinsCount": _("{pinned} of {most} pinned"),
        "didNotWork": _("That did not work."),
        "searching": _("Searching…"),
        "pin": _("Pin"),
        "pinLabel": _("Pin {name}"),
        "noProductMatches": _("No product matches."),
        "pinFirst": _("Pin a product first."),
        "enterOfferPrice": _("Enter the offer price, e.g. 950.00."),
        "offerNotStarted": _("The offer did not start."),
        "offerRunning": _("Running: {price}, {left} left, ends in {time}"),
        "offerEnded": _("The offer has ended."),
        "productCard": _("Product card: {name}"),
        "snapshotSent": _("Snapshot sent"),
        "delete": _("Delete"),
        "deleteLabel": _("Delete message from {name}"),
        "mutedName": _("{name} (muted)"),
        "unmute": _("Unmute"),
        "mute": _("Mute 10 min"),
        "muteLabel": _("Mute 10 min: {name}"),
        "ban": _("Ban"),
        "banLabel": _("Ban {name}"),
        "noOneJoined": _("No one has joined yet."),
        "aShopper": _("A shopper"),
        "added": _("{who} added {quantity} × {product}"),
        "offline": _("You are offline."),
        "reconnectingChat": _("Reconnecting to the chat…"),
        "liveNotSending": _("Live · camera not sending"),
    }


def hours() -> dict[str, str]:
    return {
        "dayOff": _("Day off"),
        "atStore": _("at {store}"),
        "aStore": _("a store"),
        "remove": _("Remove"),
        "theExceptionOf": _("the exception of {day}"),
        "removed": _("Removed: {day} follows the weekly hours again."),
        "notRemoved": _("Not removed: {error}"),
        "loadFailed": _("We could not load the exceptions: {error}"),
        "comingUp.one": ngettext("{n} coming up.", "{n} coming up.", 1),
        "comingUp.other": ngettext("{n} coming up.", "{n} coming up.", 2),
        "comingUpAndPast.one": ngettext(
            "{n} coming up (and {past} past, not shown).",
            "{n} coming up (and {past} past, not shown).",
            1,
        ),
        "comingUpAndPast.other": ngettext(
            "{n} coming up (and {past} past, not shown).",
            "{n} coming up (and {past} past, not shown).",
            2,
        ),
        "noneComingUp": _("No exceptions coming up: the weekly hours apply every week."),
        "chooseDate": _("Choose the date."),
        "giveTimes": _("Give the time the day starts and ends, or choose Day off."),
        "startBeforeEnd": _("The start must come before the end."),
        "addedHours": _("Added: {day}, {from}–{to}."),
        "addedDayOff": _("Added: {day}, day off."),
        "notAdded": _("Not added: {error}"),
    }


def messages() -> dict[str, str]:
    return {
        "sendByEmail": _("Send the answer by e-mail"),
        "yourAnswerTo": _("Your answer to {name}"),
        "writeFirst": _("Write an answer first."),
        "sending": _("Sending…"),
        "answeredSent": _("Answered {when}: the e-mail goes to {email}."),
        "movedToAnswered": _("{error} It has moved to Answered."),
        "notSent": _("Not sent: {error}"),
        "answeredAt": _("Answered {when}: "),
        "noneWaiting": _("No message waiting for an answer."),
        "noneAnswered": _("No message answered yet."),
        "loadFailed": _(
            "We could not load the messages: {error} Retrying when the connection is back."
        ),
        "newFrom": _("New message from {name}."),
        "newMessages.one": ngettext("{n} new message.", "{n} new messages.", 1),
        "newMessages.other": ngettext("{n} new message.", "{n} new messages.", 2),
        "waiting.one": ngettext("{n} waiting for an answer.", "{n} waiting for an answer.", 1),
        "waiting.other": ngettext("{n} waiting for an answer.", "{n} waiting for an answer.", 2),
        "nothingWaiting": _("Nothing waiting: every message has its answer."),
    }


def inbox_tools() -> dict[str, str]:
    return {
        "mine": _("mine"),
        "cannotFill": _("Cannot be filled here: {problem}"),
        "noReplyMatches": _("No saved reply matches."),
        "noReplyYet": _(
            "No saved reply yet: save one of yours, or ask your admin for the brand's."
        ),
        "writeAnswerFirst": _("Write your answer first: it is what gets saved."),
        "giveTitle": _("Give it a title."),
        "savedReply": _("Saved “{title}”: it is among your saved replies now."),
        "productSent": _("{name} sent."),
        "found.one": ngettext("{n} found.", "{n} found.", 1),
        "found.other": ngettext("{n} found.", "{n} found.", 2),
        "nothingMatches": _("Nothing matches “{q}”."),
        "send": _("Send"),
        "sendLabel": _("Send {name}"),
        "transferred": _("Transferred to {name}."),
        "load": _("{load} of {cap} conversations"),
        "transfer": _("Transfer"),
        "transferTo": _("Transfer to {name}"),
        "full": _("Full"),
        "noColleague": _("No colleague is present right now."),
        "noName": _("No name given"),
        "firstSeen": _("first seen {day}"),
        "since": _("This conversation since {day}: {questions} questions, {answers} answers."),
        "sinceBy": _(
            "This conversation since {day}: {questions} questions, {answers} answers (by {by})."
        ),
        "about": _("About"),
        "latestQuestions": _("Latest questions"),
        "appointments": _("Appointments"),
        "appointment_booked": _("booked"),
        "appointment_cancelled": _("cancelled"),
        "appointment_completed": _("completed"),
        "appointment_no_show": _("no-show"),
        "videoCalls": _("Video calls"),
        "callBooked": _("{when} with {associate} (booked)"),
        "callTalkNow": _("{when} with {associate} (talk now)"),
        "inTheBag": _("In the bag"),
        "orders": _("Orders"),
        "refunded": _("refunded {amount}"),
        "showsWatched": _("Shows watched"),
        "nothingYet": _("No appointment, video call, bag, order or show watched yet."),
        "bagHidden": _(
            "The bag and orders are shown to the associate holding the conversation and to the "
            "brand's admins."
        ),
        "loading": _("Loading…"),
    }


def inbox() -> dict[str, str]:
    return {
        "conversationWith": _("Conversation with {name}"),
        "waitingAssociate": _("Waiting for an associate."),
        "closed": _("Closed."),
        "withName": _("With {name}."),
        "aColleague": _("a colleague"),
        "newQuestionFrom": _("New question from {name}: {preview}"),
        "newQuestion": _("New question"),
        "shopperWaiting": _("A shopper is waiting"),
        "typing": _("The shopper is typing…"),
    }


def inbox_video() -> dict[str, str]:
    return {
        "videoRequests": _("Video requests"),
        "offerVideo": _("Try it on for you on camera"),
        "openingVideo": _("Opening the video with {name}…"),
        "asksCamera": _("{name} asks to be shown on camera."),
        "goOnCamera": _("Go on camera"),
        "notNow": _("Not now"),
        "waitingAccept": _("Waiting for {name} to accept the video."),
        "withdraw": _("Withdraw"),
        "requestOpen": _("A video request is open in this conversation (above)."),
        "videoRequested": _("Video requested"),
        "accepted": _("{name} accepted the video: it is open in the consultations."),
        "declined": _("{name} would rather not go on video now."),
        "withdrew": _("{name} withdrew the video request."),
        "lapsed": _("{name}'s video request lapsed unanswered."),
        "offerLapsed": _("{name} did not answer your video offer in time."),
    }


def analytics() -> dict[str, str]:
    return {
        "attributed": _("Attributed"),
        "influenced": _("Influenced"),
        "viewers": _("Viewers"),
        "productPinned": _("Product pinned"),
        "minuteOfShow": _("Minute of the show"),
        "pinned": _("Pinned {name}"),
        "nViewers": _("{n} viewers"),
        "people": _("People"),
        "seconds": _("{n} s"),
        "chats": _("Chats"),
        "firstResponse": _("First response (s)"),
        "averageResponse": _("Average response (s)"),
        "secondsAxis": _("Seconds"),
        "nChats": _("{n} chats"),
        "secondsInChats": _("Seconds, in chats"),
    }


def thread_view() -> dict[str, str]:
    """thread-view.js is shared with the shopper's chat: it keeps its English as fallback."""
    return {
        "seen": _("Seen"),
        "automaticAnswer": _("Automatic answer"),
        "pictureSent": _("Picture sent in the conversation"),
        "inStock": _("In stock"),
        "onlyLeft": _("Only {n} left"),
        "soldOut": _("Sold out"),
        "aProduct": _("A product"),
        "noLongerAvailable": _("This product is no longer available."),
        "askedAbout": _("Asked about"),
    }


SCRIPTS: dict[str, Callable[[], dict[str, str]]] = {
    "host": host,
    "hours": hours,
    "messages": messages,
    "inbox": inbox,
    "inbox-tools": inbox_tools,
    "inbox-video": inbox_video,
    "analytics": analytics,
    "thread-view": thread_view,
}


def js_strings(*scripts: str) -> dict[str, str]:
    """The words of these scripts in the page's language, and the zone of its times."""
    from web.staff_i18n import staff_zone  # web.staff_i18n imports this module: late

    words = {key: text for name in scripts for key, text in SCRIPTS[name]().items()}
    words["zone"] = staff_zone()
    return words


def init_app(app: Flask) -> None:
    app.add_template_global(js_strings)
