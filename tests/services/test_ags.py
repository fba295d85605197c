"""AGS against the fake Canvas: line items found or created once, scores arriving as sent."""
from datetime import datetime, timedelta, timezone

import pytest

from lti_tool.db import utcnow
from lti_tool.lti.services import PlatformRejected, ags
from lti_tool.lti.services.ags import CanvasSubmission, Score


def _score(user_id: str, **overrides) -> Score:
    values = dict(user_id=user_id, activity_progress="Completed", grading_progress="FullyGraded",
                  timestamp=utcnow(), score_given=1.0, score_maximum=1.0)
    values.update(overrides)
    return Score(**values)


def test_find_or_create_line_item_is_idempotent(platform, fake_canvas, course):
    url = fake_canvas.lineitems_url(course)
    first = ags.find_or_create_line_item(platform, url, resource_id="mc-42", tag="award", label="Questioning MC",
                                         score_maximum=1)
    again = ags.find_or_create_line_item(platform, url, resource_id="mc-42", tag="award", label="Questioning MC",
                                         score_maximum=1)
    assert again == first and first.id.startswith(url + "/")
    assert (first.label, first.score_maximum, first.resource_id, first.tag) == ("Questioning MC", 1.0, "mc-42", "award")
    assert len(fake_canvas.requests_to("/line_items", "POST")) == 1
    listings = fake_canvas.requests_to("/line_items", "GET")
    assert len(listings) == 2
    assert all(r["args"] == {"resource_id": ["mc-42"], "tag": ["award"], "limit": ["50"]} for r in listings)
    assert all(r["accept"] == ags.LINEITEM_CONTAINER_MEDIA for r in listings)
    [created] = fake_canvas.requests_to("/line_items", "POST")
    assert created["content_type"] == created["accept"] == ags.LINEITEM_MEDIA
    assert created["json"] == {"label": "Questioning MC", "scoreMaximum": 1, "resourceId": "mc-42", "tag": "award"}


def test_another_tag_or_resource_is_another_line_item(platform, fake_canvas, course):
    url = fake_canvas.lineitems_url(course)
    award = ags.find_or_create_line_item(platform, url, resource_id="mc-42", tag="award", label="A", score_maximum=1)
    other_tag = ags.find_or_create_line_item(platform, url, resource_id="mc-42", tag="plan", label="P", score_maximum=1)
    other_mc = ags.find_or_create_line_item(platform, url, resource_id="mc-43", tag="award", label="B", score_maximum=1)
    assert len({award.id, other_tag.id, other_mc.id}) == 3
    assert len(course.line_items) == 3


def test_listing_follows_next_links_across_pages(platform, fake_canvas, course):
    url = fake_canvas.lineitems_url(course)
    for index in range(57):
        ags.create_line_item(platform, url, label=f"Task {index}", score_maximum=4, tag="task",
                             resource_id=f"t{index}")
    ags.create_line_item(platform, url, label="Other", score_maximum=1, tag="other")
    found = ags.line_items(platform, url, tag="task")
    assert [item.label for item in found] == [f"Task {index}" for index in range(57)]
    assert len(fake_canvas.requests_to("/line_items", "GET")) == 2


def test_line_item_with_resource_link(platform, fake_canvas, course):
    link = next(iter(course.resource_links))
    item = ags.create_line_item(platform, fake_canvas.lineitems_url(course), label="MC", score_maximum=1,
                                resource_link_id=link)
    assert item.resource_link_id == link
    with pytest.raises(PlatformRejected) as refused:
        ags.create_line_item(platform, fake_canvas.lineitems_url(course), label="MC", score_maximum=1,
                             resource_link_id="no-such-link")
    assert refused.value.http_status == 404 and "does not exist" in refused.value.platform_message


def test_score_with_comment_and_submission_extension_arrives_intact(platform, fake_canvas, course):
    item = ags.find_or_create_line_item(platform, fake_canvas.lineitems_url(course), resource_id="mc-42",
                                        label="Questioning MC", score_maximum=1)
    student = course.students[0]
    submitted = datetime(2026, 11, 20, 9, 30, 15, 250000, tzinfo=timezone(timedelta(hours=-5)))
    score = Score(user_id=student.lti_id, activity_progress="Completed", grading_progress="FullyGraded",
                  timestamp=utcnow(), score_given=1, score_maximum=1,
                  comment="Awarded: Questioning MC. Evidence reviewed by two colleagues; signed off by the principal.",
                  canvas_submission=CanvasSubmission(new_submission=True, submission_type="basic_lti_launch",
                                                     submitted_at=submitted))
    answer = ags.post_score(platform, item.id, score)
    assert answer["resultUrl"].startswith(item.id + "/results/")
    [sent] = fake_canvas.requests_to("/scores")
    assert sent["path"] == item.id.removeprefix(fake_canvas.base_url) + "/scores"
    assert sent["content_type"] == "application/vnd.ims.lis.v1.score+json"
    assert sent["accept"] == "application/json"
    assert sent["json"] == score.to_json()
    stored = course.results[(int(item.id.rsplit("/", 1)[1]), student.lti_id)]["body"]
    assert stored["comment"] == score.comment
    assert stored["https://canvas.instructure.com/lti/submission"] == {
        "new_submission": True, "submission_type": "basic_lti_launch", "submitted_at": "2026-11-20T14:30:15.250+00:00"}
    assert stored["submission"] == {"submittedAt": "2026-11-20T14:30:15.250+00:00"}
    assert stored["timestamp"].endswith("+00:00") and "." in stored["timestamp"]


def test_scores_url_keeps_the_line_item_query_string(platform, fake_canvas, course):
    assert ags.scores_url("https://lms.test/ctx/7/lineitems/3/lineitem?type_id=2") == \
        "https://lms.test/ctx/7/lineitems/3/lineitem/scores?type_id=2"
    item = ags.create_line_item(platform, fake_canvas.lineitems_url(course), label="MC", score_maximum=1)
    ags.post_score(platform, item.id + "?type_id=2", _score(course.students[0].lti_id))
    [sent] = fake_canvas.requests_to("/scores")
    assert sent["query"] == "type_id=2"


def test_student_view_user_and_staff_are_refused_with_canvas_message(platform, fake_canvas, course):
    item = ags.create_line_item(platform, fake_canvas.lineitems_url(course), label="MC", score_maximum=1)
    test_student = next(u for u in course.users if u.name == "Test Student")
    teacher = next(u for u in course.users if u.name.startswith("Teacher"))
    for user in (test_student, teacher):
        with pytest.raises(PlatformRejected) as refused:
            ags.post_score(platform, item.id, _score(user.lti_id))
        error = refused.value
        assert error.http_status == 422 and not error.retryable and error.retry_after is None
        assert error.platform_message == "User not found in course or is not a student"
        assert "User not found in course or is not a student" in error.message


def test_older_timestamp_is_refused_with_canvas_message(platform, fake_canvas, course):
    item = ags.create_line_item(platform, fake_canvas.lineitems_url(course), label="MC", score_maximum=1)
    student = course.students[0].lti_id
    now = utcnow()
    ags.post_score(platform, item.id, _score(student, timestamp=now))
    with pytest.raises(PlatformRejected) as refused:
        ags.post_score(platform, item.id, _score(student, timestamp=now - timedelta(minutes=5)))
    assert refused.value.http_status == 400 and not refused.value.retryable
    assert "before last updated timestamp" in refused.value.platform_message
    ags.post_score(platform, item.id, _score(student, timestamp=now + timedelta(seconds=1), comment="again"))


def test_score_without_a_grade_records_progress(platform, fake_canvas, course):
    item = ags.create_line_item(platform, fake_canvas.lineitems_url(course), label="MC", score_maximum=1)
    ags.post_score(platform, item.id, Score(user_id=course.students[1].lti_id, activity_progress="Submitted",
                                            grading_progress="PendingManual", timestamp=utcnow()))
    [sent] = fake_canvas.requests_to("/scores")
    assert "scoreGiven" not in sent["json"] and "scoreMaximum" not in sent["json"]


def test_scores_that_canvas_would_refuse_are_caught_before_sending():
    aware = utcnow()
    with pytest.raises(ValueError, match="scoreMaximum"):
        Score(user_id="u", activity_progress="Completed", grading_progress="FullyGraded", timestamp=aware,
              score_given=1)
    with pytest.raises(ValueError, match="timezone"):
        Score(user_id="u", activity_progress="Completed", grading_progress="FullyGraded",
              timestamp=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="activityProgress"):
        Score(user_id="u", activity_progress="Done", grading_progress="FullyGraded", timestamp=aware)
    with pytest.raises(ValueError, match="submission_type"):
        CanvasSubmission(submission_type="paper")
