// Unit tests of internal::ValidateQuery (engine/src/store/matching.h), the
// check behind Query::Check, AppendCondition::Check and every read and
// conditional append: an item must name a type or a tag, and each type and
// tag must be one an event could carry (1..255 bytes of UTF-8; a tag without
// control characters). The message names the query (`what`), the item by its
// index and what is wrong with it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "opossum/opossum.h"
#include "store/matching.h"

namespace opossum::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Query Items(std::vector<QueryItem> items) {
  Query q;
  q.items = std::move(items);
  return q;
}

TEST(ValidateQueryTest, AllAndWellFormedItemsAreAccepted) {
  EXPECT_TRUE(ValidateQuery(Query::All(), "query").ok());
  EXPECT_TRUE(ValidateQuery(Query::Of({"Ordered"}, {}), "query").ok());
  EXPECT_TRUE(ValidateQuery(Query::Of({}, {"order:1"}), "query").ok());
  EXPECT_TRUE(
      ValidateQuery(Query::Of({"Ordered", "Shipped"}, {"order:1", "customer:7"}), "query").ok());
  // Limits: exactly 255 bytes, multi-byte UTF-8.
  EXPECT_TRUE(
      ValidateQuery(Query::Of({std::string(255, 't')}, {std::string(255, 'g')}), "query").ok());
  EXPECT_TRUE(ValidateQuery(Query::Of({"Bestellung\xC3\xA4"}, {"k\xE2\x82\xAC:v"}), "query").ok());
}

TEST(ValidateQueryTest, AnItemNamingNeitherTypesNorTagsIsInvalid) {
  Status s = ValidateQuery(Items({QueryItem{{"A"}, {}}, QueryItem{}}), "query");
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(s.message(), "query item 1: names neither types nor tags");
}

TEST(ValidateQueryTest, BadTypesAreNamed) {
  Status s = ValidateQuery(Query::Of({""}, {}), "query");
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), StartsWith("query item 0: "));
  EXPECT_THAT(s.message(), HasSubstr("type is empty"));

  s = ValidateQuery(Query::Of({std::string(256, 't')}, {}), "query");
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("256 bytes (the limit is 255)"));

  s = ValidateQuery(Query::Of({"ok", "bad\xFF"}, {}), "query");
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("not valid UTF-8"));
}

TEST(ValidateQueryTest, BadTagsAreNamed) {
  Status s = ValidateQuery(Query::Of({"A"}, {"order:1", ""}), "query");
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("a tag is empty"));

  s = ValidateQuery(Query::Of({}, {std::string(300, 'g')}), "query");
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("300 bytes (the limit is 255)"));

  s = ValidateQuery(Query::Of({}, {"\xC3"}), "query");
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("not valid UTF-8"));

  s = ValidateQuery(Query::Of({}, {"order:\n1"}), "query");
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("control character"));
}

TEST(ValidateQueryTest, TheFirstBadItemIsNamedByItsIndex) {
  Query q = Items({QueryItem{{"A"}, {}}, QueryItem{{}, {"t:1"}}, QueryItem{{""}, {}}, QueryItem{}});
  Status s = ValidateQuery(q, "query");
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), StartsWith("query item 2: "));
  EXPECT_THAT(s.message(), HasSubstr("type is empty"));
}

TEST(ValidateQueryTest, WhatNamesTheQueryInTheMessage) {
  Status s = ValidateQuery(Items({QueryItem{}}), "condition query");
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(s.message(), "condition query item 0: names neither types nor tags");
}

// The public checks are this one, named for what they check.
TEST(ValidateQueryTest, QueryAndConditionChecksUseIt) {
  Query bad = Items({QueryItem{{"A"}, {}}, QueryItem{{}, {""}}});
  Status q = bad.Check();
  ASSERT_TRUE(q.IsInvalidArgument()) << q.ToString();
  EXPECT_EQ(q.message(), ValidateQuery(bad, "query").message());

  AppendCondition c;
  c.fail_if_events_match = bad;
  Status cs = c.Check();
  ASSERT_TRUE(cs.IsInvalidArgument()) << cs.ToString();
  EXPECT_EQ(cs.message(), ValidateQuery(bad, "condition query").message());
  EXPECT_THAT(cs.message(), StartsWith("condition query item 1: "));

  c.fail_if_events_match = Query::Of({"A"}, {"t:1"});
  EXPECT_TRUE(c.Check().ok());
}

}  // namespace
}  // namespace opossum::internal
